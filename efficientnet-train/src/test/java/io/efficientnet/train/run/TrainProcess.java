package io.efficientnet.train.run;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code efficientnet train} of a tiny run in a child JVM, with this JVM's class path and options. */
final class TrainProcess {

    private TrainProcess() {
    }

    /**
     * Starts the command line's {@code train} on a tiny run ({@link TinyRuns#settings}), output to {@code log}.
     *
     * @param shellPrefix shell commands run before the JVM in the same process (e.g. {@code ulimit -f 1000}), or null
     */
    static Process start(Path data, Path out, Path log, String shellPrefix, String... settings) throws IOException {
        List<String> java = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString()));
        java.addAll(jvmOptions());
        java.addAll(List.of("-Xmx2g", "-cp", System.getProperty("java.class.path"), "io.efficientnet.cli.Main",
                "train", "--no-progress"));
        for (String s : TinyRuns.settings(data, out, settings)) {
            java.add("--set");
            java.add(s);
        }
        List<String> cmd = java;
        if (shellPrefix != null) {
            StringBuilder line = new StringBuilder(shellPrefix).append("; exec");
            for (String a : java) {
                line.append(" '").append(a.replace("'", "'\\''")).append('\'');
            }
            cmd = List.of("/bin/sh", "-c", line.toString());
        }
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** Waits until {@code log} contains {@code text}, failing if the process ends first or after {@code seconds}. */
    static void awaitLog(Process p, Path log, String text, int seconds) throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (!Files.readString(log).contains(text)) {
            if (!p.isAlive()) {
                throw new AssertionError("the trainer ended before printing '" + text + "':\n" + Files.readString(log));
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no '" + text + "' within " + seconds + " s:\n" + Files.readString(log));
            }
            Thread.sleep(20);
        }
    }

    /** The test JVM's own options (module flags, --add-opens, heap), less agents and debuggers. */
    static List<String> jvmOptions() {
        List<String> options = new ArrayList<>();
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-javaagent") && !a.startsWith("-agentlib") && !a.startsWith("-agentpath")
                    && !a.startsWith("-Xrun") && !a.equals("-Xdebug")) {
                options.add(a);
            }
        }
        return options;
    }
}
