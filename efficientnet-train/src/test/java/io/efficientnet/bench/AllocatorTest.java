package io.efficientnet.bench;

import io.efficientnet.train.ProjectPaths;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The native allocator choice: {@code bin/jvm-options}' {@code use_jemalloc_if_installed} (run in bash, with a stand-in
 * library file) and how {@link BackendInfo} reports the allocator a benchmark ran with.
 */
class AllocatorTest {

    private static final Path JVM_OPTIONS = ProjectPaths.root().resolve("bin/jvm-options");

    /** Sources bin/jvm-options in a clean environment plus {@code env}, runs the function, prints the result. */
    private static String[] launcher(Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", "source \"$1\"; use_jemalloc_if_installed; "
                + "echo \"LD_PRELOAD=${LD_PRELOAD:-}\"; echo \"MALLOC_CONF=${MALLOC_CONF:-}\"", "bash",
                JVM_OPTIONS.toString()).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.equals("LD_PRELOAD") || k.equals("MALLOC_CONF")
                || k.startsWith("EFFICIENTNET_"));
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new String[] {String.valueOf(p.waitFor()), out};
    }

    @Test
    void launcherPreloadsTheGivenJemallocWithPageReturnOffAndKeepsAUsersMallocConf(@TempDir Path tmp)
            throws Exception {
        Path lib = Files.writeString(tmp.resolve("libjemalloc.so.2"), "stand-in");
        String[] r = launcher(Map.of("EFFICIENTNET_JEMALLOC", lib.toString(), "LD_PRELOAD", "/other/libx.so"));
        assertEquals("0", r[0], r[1]);
        assertTrue(r[1].contains("LD_PRELOAD=" + lib + ":/other/libx.so\n"), r[1]);
        assertTrue(r[1].contains("MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1\n"), r[1]);

        r = launcher(Map.of("EFFICIENTNET_JEMALLOC", lib.toString(), "LD_PRELOAD", lib.toString(),
                "MALLOC_CONF", "narenas:2"));
        assertTrue(r[1].contains("LD_PRELOAD=" + lib + "\n"), "not preloaded twice: " + r[1]);
        assertTrue(r[1].contains("MALLOC_CONF=narenas:2\n"), "the user's setting wins: " + r[1]);
    }

    @Test
    void systemModeAndBadSettingsAreHonouredOrRefusedByName(@TempDir Path tmp) throws Exception {
        Path lib = Files.writeString(tmp.resolve("libjemalloc.so.2"), "stand-in");
        String[] r = launcher(Map.of("EFFICIENTNET_MALLOC", "system", "EFFICIENTNET_JEMALLOC", lib.toString()));
        assertEquals("0", r[0], r[1]);
        assertTrue(r[1].contains("LD_PRELOAD=\n") && r[1].contains("MALLOC_CONF=\n"), r[1]);

        r = launcher(Map.of("EFFICIENTNET_MALLOC", "tcmalloc"));
        assertEquals("2", r[0], r[1]);
        assertTrue(r[1].contains("EFFICIENTNET_MALLOC must be auto, jemalloc or system, got 'tcmalloc'"), r[1]);

        r = launcher(Map.of("EFFICIENTNET_JEMALLOC", tmp.resolve("missing.so").toString()));
        assertEquals("2", r[0], r[1]);
        assertTrue(r[1].contains("missing.so: no such readable file"), r[1]);
    }

    @Test
    void backendInfoReportsJemallocOnlyWhenItIsMapped(@TempDir Path tmp) throws Exception {
        Path with = Files.write(tmp.resolve("maps-jemalloc"), List.of(
                "7f00-7f10 r-xp 00000000 08:01 123 /usr/lib/x86_64-linux-gnu/libc.so.6",
                "7f20-7f30 r-xp 00000000 08:01 456 /usr/lib/x86_64-linux-gnu/libjemalloc.so.2"));
        Path without = Files.write(tmp.resolve("maps-glibc"), List.of(
                "7f00-7f10 r-xp 00000000 08:01 123 /usr/lib/x86_64-linux-gnu/libc.so.6"));
        assertEquals("jemalloc (MALLOC_CONF=dirty_decay_ms:-1)",
                BackendInfo.allocator(with, "dirty_decay_ms:-1"));
        assertEquals("system", BackendInfo.allocator(without, "dirty_decay_ms:-1"));
        assertEquals("unknown", BackendInfo.allocator(tmp.resolve("absent"), null));
        // this JVM: jemalloc exactly when a libjemalloc is mapped into it, with this process's MALLOC_CONF
        boolean mapped = Files.readString(Path.of("/proc/self/maps")).contains("/libjemalloc");
        String conf = System.getenv("MALLOC_CONF");
        assertEquals(mapped ? "jemalloc (MALLOC_CONF=" + (conf == null ? "" : conf) + ")" : "system",
                BackendInfo.current().allocator());
        String preload = System.getenv("LD_PRELOAD");
        if (preload != null && preload.contains("libjemalloc")) {
            assertTrue(mapped, "LD_PRELOAD names jemalloc (" + preload + "), so it is mapped");
        }
    }
}
