package io.efficientnet.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The outcome of a {@link ModelBenchmark} run.
 *
 * @param model       what was measured (variant, φ or model file)
 * @param spec        the settings
 * @param inputShape  {@code [channels, height, width]}
 * @param params      parameter count of the network
 * @param optimizer   the training update (null for inference)
 * @param iterationMs wall time of each timed iteration, in order
 * @param memory      peak memory over warm-up and timed iterations
 * @param backend     the ND4J backend and threads
 * @param profile     per-layer-type profile, or null
 * @param notes       extra facts for the report (e.g. folded batch norms), may be empty
 */
public record BenchmarkResult(String model, BenchmarkSpec spec, int[] inputShape, long params, String optimizer,
                              double[] iterationMs, MemoryMonitor.Peak memory, BackendInfo backend,
                              LayerProfiler.Profile profile, Map<String, Object> notes) {

    /** Images per second of each timed iteration. */
    public double[] imagesPerSecond() {
        return Arrays.stream(iterationMs).map(ms -> spec.batchSize() * 1000.0 / ms).toArray();
    }

    static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    public double medianImagesPerSecond() {
        return median(imagesPerSecond());
    }

    public double minImagesPerSecond() {
        return Arrays.stream(imagesPerSecond()).min().orElse(0);
    }

    public double maxImagesPerSecond() {
        return Arrays.stream(imagesPerSecond()).max().orElse(0);
    }

    public double medianIterationMs() {
        return median(iterationMs);
    }

    /** One flat-ish object for tooling ({@code --json}). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", model);
        m.put("mode", spec.mode().id());
        m.put("batchSize", spec.batchSize());
        m.put("inputShape", inputShape);
        m.put("params", params);
        m.put("warmup", spec.warmup());
        m.put("iterations", spec.iterations());
        m.put("seed", spec.seed());
        m.put("optimizer", optimizer);
        m.put("imagesPerSecondMedian", medianImagesPerSecond());
        m.put("imagesPerSecondMin", minImagesPerSecond());
        m.put("imagesPerSecondMax", maxImagesPerSecond());
        m.put("iterationMsMedian", medianIterationMs());
        m.put("iterationMsMin", Arrays.stream(iterationMs).min().orElse(0));
        m.put("iterationMsMax", Arrays.stream(iterationMs).max().orElse(0));
        m.put("iterationMs", iterationMs);
        m.put("memory", memory.toMap());
        m.put("backend", backend.toMap());
        m.putAll(notes);
        m.put("profile", profile == null ? null : profile.toMap());
        return m;
    }

    /** A short report for people. */
    public String toText() {
        StringBuilder sb = new StringBuilder();
        String nl = System.lineSeparator();
        sb.append(String.format(Locale.ROOT, "%s %s, batch %d, input %dx%dx%d, %,d params%n", model,
                spec.mode().id(), spec.batchSize(), inputShape[0], inputShape[1], inputShape[2], params));
        if (optimizer != null) {
            sb.append("  update: ").append(optimizer).append(nl);
        }
        notes.forEach((k, v) -> sb.append("  ").append(k).append(": ").append(v).append(nl));
        sb.append(String.format(Locale.ROOT, "  %d warm-up + %d timed iterations (seed %d)%n", spec.warmup(),
                spec.iterations(), spec.seed()));
        sb.append(String.format(Locale.ROOT, "  images/s: median %.2f (min %.2f, max %.2f)%n",
                medianImagesPerSecond(), minImagesPerSecond(), maxImagesPerSecond()));
        sb.append(String.format(Locale.ROOT, "  ms/iteration: median %.1f (min %.1f, max %.1f)%n",
                medianIterationMs(), Arrays.stream(iterationMs).min().orElse(0),
                Arrays.stream(iterationMs).max().orElse(0)));
        sb.append(String.format(Locale.ROOT, "  peak memory: heap %s (pool peaks summed), process RSS %s, "
                        + "JavaCPP-tracked %s, ND4J workspaces %s%n", mib(memory.heapBytes()), mib(memory.rssBytes()),
                mib(memory.javacppBytes()), mib(memory.workspaceBytes())));
        sb.append(String.format(Locale.ROOT, "  backend: %s, native build %s, BLAS %s, OpenMP threads %d, "
                        + "nd4j max threads %d, OMP_NUM_THREADS=%s, %d CPUs, Java %s, allocator %s%n", backend.backend(),
                backend.nativeBuild(), backend.blasVendor(), backend.ompThreads(), backend.nd4jMaxThreads(),
                backend.ompNumThreadsEnv() == null ? "(unset)" : backend.ompNumThreadsEnv(),
                backend.availableProcessors(), backend.java(), backend.allocator()));
        if (profile != null) {
            sb.append(profile.toText());
        }
        return sb.toString();
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.0f MiB", bytes / 1024.0 / 1024.0);
    }
}
