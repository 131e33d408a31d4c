package io.efficientnet.cli;

import io.efficientnet.train.ProjectPaths;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * bin/efficientnet's decisions, run on a copy of the launcher in a stand-in repository with a fake {@code mvn} (records
 * its arguments and writes the jar and class path the build would) and a fake {@code java} (records its arguments): it
 * builds when the jar is missing, older than a source or built with another profile, and picks the portable build on
 * CPUs without AVX2 (flags read from EFFICIENTNET_CPUINFO).
 */
class LauncherTest {

    private static final String BUILD = "-q -DskipTests -pl efficientnet-train -am install";

    @TempDir
    Path tmp;
    Path root;
    Path jar;
    Path avx2;
    Path noAvx2;

    @BeforeEach
    void standInRepository() throws Exception {
        root = tmp.resolve("repo");
        Files.createDirectories(root.resolve("bin"));
        for (String f : List.of("efficientnet", "jvm-options")) {
            Files.copy(ProjectPaths.root().resolve("bin").resolve(f), root.resolve("bin").resolve(f));
        }
        Instant hourAgo = Instant.now().minusSeconds(3600);
        for (String f : List.of("pom.xml", "efficientnet-core/pom.xml", "efficientnet-core/src/main/java/A.java",
                "efficientnet-train/pom.xml", "efficientnet-train/src/main/resources/r.txt", "README.md",
                "efficientnet-examples/src/main/java/E.java")) {
            Path p = root.resolve(f);
            Files.createDirectories(p.getParent());
            Files.writeString(p, f);
            Files.setLastModifiedTime(p, FileTime.from(hourAgo));
        }
        jar = root.resolve("efficientnet-train/target/efficientnet-train-0.1.0-SNAPSHOT.jar");
        Path bin = Files.createDirectories(tmp.resolve("fake-bin"));
        script(bin.resolve("mvn"), "echo \"$PWD $*\" >> \"$LOG/mvn.log\"\n"
                + "[ -n \"${FAKE_MVN_FAIL:-}\" ] && exit 1\n"
                + "mkdir -p efficientnet-train/target\n"
                + "touch efficientnet-train/target/efficientnet-train-0.1.0-SNAPSHOT.jar\n"
                + "echo /deps/a.jar > efficientnet-train/target/classpath.txt\n");
        script(bin.resolve("java"), "printf '%s\\n' \"$@\" > \"$LOG/java.args\"\n");
        avx2 = Files.writeString(tmp.resolve("cpuinfo-avx2"), "flags\t\t: fpu sse4_2 avx avx2 fma avx512f\n");
        noAvx2 = Files.writeString(tmp.resolve("cpuinfo-sse"), "flags\t\t: fpu sse4_2 avx\n");
    }

    private static void script(Path p, String body) throws IOException {
        Files.writeString(p, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** Runs the launcher; returns {exit code, output, mvn calls so far, java's arguments (or "")}. */
    private Object[] launch(Path cpuinfo, Map<String, String> env, String... args) throws Exception {
        Files.deleteIfExists(tmp.resolve("java.args"));
        List<String> cmd = new java.util.ArrayList<>(List.of("bash", root.resolve("bin/efficientnet").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("out.txt").toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("EFFICIENTNET_") || k.equals("LD_PRELOAD")
                || k.equals("MALLOC_CONF"));
        pb.environment().put("PATH", tmp.resolve("fake-bin") + ":/usr/bin:/bin");
        pb.environment().put("LOG", tmp.toString());
        pb.environment().put("EFFICIENTNET_CPUINFO", cpuinfo.toString());
        pb.environment().put("EFFICIENTNET_MALLOC", "system");
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("the launcher did not finish within 60 s");
        }
        Path mvn = tmp.resolve("mvn.log");
        Path java = tmp.resolve("java.args");
        return new Object[] {p.exitValue(), Files.readString(tmp.resolve("out.txt")),
                Files.exists(mvn) ? Files.readAllLines(mvn) : List.of(),
                Files.exists(java) ? Files.readString(java, StandardCharsets.UTF_8) : ""};
    }

    private Object[] launch(Path cpuinfo, String... args) throws Exception {
        return launch(cpuinfo, Map.of(), args);
    }

    private void ageJar() throws IOException {
        Files.setLastModifiedTime(jar, FileTime.from(Instant.now().minusSeconds(600)));
    }

    @Test
    void buildsWhenTheJarIsMissingOrStaleAndOtherwiseRunsIt() throws Exception {
        Object[] r = launch(avx2, "summary", "--json");
        assertEquals(0, r[0], (String) r[1]);
        assertEquals(List.of(root + " " + BUILD), r[2], "one build, without a profile on an AVX2 CPU");
        assertTrue(((String) r[1]).contains("efficientnet: building the CLI ..."), (String) r[1]);
        List<String> java = ((String) r[3]).lines().toList();
        int cp = java.indexOf("-cp");
        assertTrue(cp >= 0, r[3].toString());
        assertEquals(List.of(jar + ":/deps/a.jar", "io.efficientnet.cli.Main", "summary", "--json"),
                java.subList(cp + 1, java.size()));
        assertTrue(java.contains("--add-modules=jdk.incubator.vector,jdk.incubator.foreign"), r[3].toString());

        ageJar();
        r = launch(avx2, "summary");
        assertEquals(1, ((List<?>) r[2]).size(), "up to date: no build");
        assertFalse(((String) r[1]).contains("building"), (String) r[1]);
        assertTrue(((String) r[3]).endsWith("io.efficientnet.cli.Main\nsummary\n"), r[3].toString());

        Files.writeString(root.resolve("README.md"), "edited");
        Files.writeString(root.resolve("efficientnet-examples/src/main/java/E.java"), "edited");
        r = launch(avx2, "summary");
        assertEquals(1, ((List<?>) r[2]).size(), "files outside the CLI's sources do not trigger a build");

        for (String source : List.of("efficientnet-core/src/main/java/A.java", "efficientnet-train/pom.xml",
                "efficientnet-train/src/main/resources/r.txt", "pom.xml")) {
            int before = ((List<?>) launch(avx2, "summary")[2]).size();
            ageJar();
            Files.writeString(root.resolve(source), "edited");
            r = launch(avx2, "summary");
            assertEquals(before + 1, ((List<?>) r[2]).size(), source + " newer than the jar: rebuilt");
            assertEquals(0, r[0], (String) r[1]);
        }

        Files.delete(root.resolve("efficientnet-train/target/classpath.txt"));
        r = launch(avx2, "summary");
        assertEquals(root + " " + BUILD, last(r), "no class path file: rebuilt");
    }

    @Test
    void cpusWithoutAvx2GetThePortableBuildAndAProfileChangeRebuilds() throws Exception {
        Object[] r = launch(noAvx2, "summary");
        assertEquals(0, r[0], (String) r[1]);
        assertEquals(List.of(root + " " + BUILD + " -Pportable"), r[2]);
        assertTrue(((String) r[1]).contains("building the CLI (profile portable)"), (String) r[1]);
        assertEquals("portable\n", Files.readString(root.resolve("efficientnet-train/target/.build-profile")));

        ageJar();
        r = launch(noAvx2, "summary");
        assertEquals(1, ((List<?>) r[2]).size(), "the portable build is up to date");

        r = launch(avx2, "summary");
        assertEquals(root + " " + BUILD, last(r), "an AVX2 CPU replaces the portable build");

        // an explicit profile wins over the CPU check
        r = launch(noAvx2, "predict", "--backend", "cuda");
        assertEquals(root + " " + BUILD + " -Pcuda", last(r));
        r = launch(noAvx2, "predict", "--backend=cuda");
        assertEquals(3, ((List<?>) r[2]).size(), "still the cuda build: " + r[2]);
        r = launch(noAvx2, Map.of("EFFICIENTNET_PROFILE", "portable"), "summary");
        assertEquals(root + " " + BUILD + " -Pportable", last(r));
    }

    @Test
    void aFailedBuildStopsTheLauncher() throws Exception {
        Object[] r = launch(avx2, Map.of("FAKE_MVN_FAIL", "1"), "summary");
        assertNotEquals(0, r[0], "the build's failure is the launcher's");
        assertEquals(1, ((List<?>) r[2]).size());
        assertEquals("", r[3], "java was not started");
        assertFalse(Files.exists(root.resolve("efficientnet-train/target/.build-profile")), "no profile recorded");
    }

    private static String last(Object[] r) {
        List<?> calls = (List<?>) r[2];
        assertFalse(calls.isEmpty(), "mvn was called");
        return calls.get(calls.size() - 1).toString();
    }
}
