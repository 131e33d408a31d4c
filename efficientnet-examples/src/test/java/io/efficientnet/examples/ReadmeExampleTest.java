package io.efficientnet.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The README's Java example (the first {@code java} block under "Classify an image from Java") compiles against the
 * project's jars as printed, with the imports its comment names. It is not run: it downloads ImageNet weights.
 */
class ReadmeExampleTest {

    /** Types the example's comment says to import alongside the lines it shows. */
    private static final String SUPPLIED_IMPORTS = """
            import org.deeplearning4j.nn.graph.ComputationGraph;
            import org.deeplearning4j.zoo.PretrainedType;
            import org.nd4j.linalg.api.ndarray.INDArray;
            import java.nio.file.Path;
            """;

    @Test
    void theClassificationExampleCompiles(@TempDir Path dir) throws Exception {
        String readme = Files.readString(RepoPaths.root().resolve("README.md"));
        int section = readme.indexOf("## Classify an image from Java");
        assertTrue(section >= 0, "the README has the section");
        int start = readme.indexOf("```java\n", section) + "```java\n".length();
        String code = readme.substring(start, readme.indexOf("```", start));
        List<String> lines = code.lines().toList();
        assertTrue(lines.stream().filter(l -> !l.isBlank() && !l.startsWith("import") && !l.startsWith("//")).count()
                <= 10, "a ten-line example:\n" + code);
        String imports = lines.stream().filter(l -> l.startsWith("import ")).collect(Collectors.joining("\n"));
        String body = lines.stream().filter(l -> !l.startsWith("import ")).collect(Collectors.joining("\n"));
        Path source = dir.resolve("ReadmeExample.java");
        Files.writeString(source, imports + "\n" + SUPPLIED_IMPORTS + "\nclass ReadmeExample {\n"
                + "    static void run() throws Exception {\n" + body + "\n    }\n}\n");

        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, null, null)) {
            boolean ok = javac.getTask(null, files, diagnostics, List.of("-classpath",
                    System.getProperty("java.class.path"), "-d", dir.toString(), "-proc:none"), null,
                    files.getJavaFileObjects(source.toFile())).call();
            String errors = diagnostics.getDiagnostics().stream().filter(d -> d.getKind() == Diagnostic.Kind.ERROR)
                    .map(d -> "line " + d.getLineNumber() + ": " + d.getMessage(null)).collect(Collectors.joining("\n"));
            assertTrue(ok, "the README example does not compile:\n" + errors + "\n" + Files.readString(source));
        }
        assertTrue(Files.isRegularFile(dir.resolve("ReadmeExample.class")));
        assertTrue(System.getProperty("java.class.path").contains("efficientnet-core")
                || System.getProperty("java.class.path").contains(File.separator + "classes"), "the project's jars");
    }
}
