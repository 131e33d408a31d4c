package io.efficientnet.bench;

import org.bytedeco.javacpp.Loader;
import org.nd4j.linalg.api.environment.Nd4jEnvironment;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * The ND4J backend a benchmark ran on: backend name, which libnd4j build JavaCPP loaded (the folder of the loaded
 * {@code jnind4j*} library, e.g. {@code linux-x86_64-onednn-avx2}), and the thread settings.
 *
 * <p>Threads are set with the {@code OMP_NUM_THREADS} environment variable before the JVM starts: libnd4j reads it
 * when it loads. Changing threads at run time is not reliable in 1.0.0-M2.1 (on the 2-core development machine,
 * {@code Nd4j.getEnvironment().setMaxThreads(1)} left {@code maxThreads()} at 2), so there is deliberately no
 * run-time thread option.
 *
 * @param backend              ND4J backend ({@code CPU}, {@code CUDA}) from the executioner's environment information
 * @param nativeBuild          platform + extension of the loaded libnd4j build, or "unknown"
 * @param nativeLibrary        path of the loaded JNI library, or null
 * @param blasVendor           BLAS vendor reported by ND4J
 * @param ompThreads           OpenMP max threads as reported by libnd4j ({@code omp.threads})
 * @param nd4jMaxThreads       libnd4j environment maxThreads
 * @param nd4jMaxMasterThreads libnd4j environment maxMasterThreads
 * @param ompNumThreadsEnv     the OMP_NUM_THREADS environment variable, or null when unset
 * @param availableProcessors  CPUs the JVM sees
 * @param java                 Java runtime version
 * @param allocator            native memory allocator of this process: {@code jemalloc (MALLOC_CONF=…)} when
 *                             libjemalloc is mapped (the launcher preloads it when installed), else {@code system}
 */
public record BackendInfo(String backend, String nativeBuild, String nativeLibrary, String blasVendor, int ompThreads,
                          int nd4jMaxThreads, int nd4jMaxMasterThreads, String ompNumThreadsEnv,
                          int availableProcessors, String java, String allocator) {

    /** Describes the backend of this JVM (initialises ND4J if needed). */
    public static BackendInfo current() {
        Properties env = Nd4j.getExecutioner().getEnvironmentInformation();
        String library = null;
        for (Map.Entry<String, String> e : Loader.getLoadedLibraries().entrySet()) {
            if (e.getKey().startsWith("jnind4j") && e.getValue() != null) {
                library = e.getValue();
            }
        }
        String build = "unknown";
        if (library != null) {
            Path parent = Path.of(library).getParent();
            if (parent != null && parent.getFileName() != null) {
                build = parent.getFileName().toString();
            }
        }
        return new BackendInfo(String.valueOf(env.get(Nd4jEnvironment.BACKEND_KEY)), build, library,
                String.valueOf(env.get(Nd4jEnvironment.BLAS_VENDOR_KEY)),
                Integer.parseInt(String.valueOf(env.getOrDefault(Nd4jEnvironment.OMP_THREADS_KEY, "-1"))),
                Nd4j.getEnvironment().maxThreads(), Nd4j.getEnvironment().maxMasterThreads(),
                System.getenv("OMP_NUM_THREADS"), Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.runtime.version"), allocator(Path.of("/proc/self/maps"),
                        System.getenv("MALLOC_CONF")));
    }

    /**
     * {@code jemalloc (MALLOC_CONF=conf)} when a libjemalloc is among the process's mapped files in {@code maps}
     * (Linux {@code /proc/self/maps}), {@code system} when not, {@code unknown} when {@code maps} cannot be read.
     */
    static String allocator(Path maps, String mallocConf) {
        try (Stream<String> lines = Files.lines(maps)) {
            boolean jemalloc = lines.anyMatch(l -> l.contains("/libjemalloc"));
            return jemalloc ? "jemalloc (MALLOC_CONF=" + (mallocConf == null ? "" : mallocConf) + ")" : "system";
        } catch (IOException | UncheckedIOException e) {
            return "unknown";
        }
    }

    /** Field map for JSON. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("backend", backend);
        m.put("nativeBuild", nativeBuild);
        m.put("nativeLibrary", nativeLibrary);
        m.put("blasVendor", blasVendor);
        m.put("ompThreads", ompThreads);
        m.put("nd4jMaxThreads", nd4jMaxThreads);
        m.put("nd4jMaxMasterThreads", nd4jMaxMasterThreads);
        m.put("OMP_NUM_THREADS", ompNumThreadsEnv);
        m.put("availableProcessors", availableProcessors);
        m.put("java", java);
        m.put("allocator", allocator);
        return m;
    }
}
