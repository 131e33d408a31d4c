package io.efficientnet.examples;

import jdk.jshell.JShell;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs the code cells of {@code notebooks/transfer-learning.ipynb} in order through JShell, with this JVM's class
 * path (the built jars); lines starting with {@code %} (kernel magics) are skipped. Any rejected snippet, unresolved
 * reference or exception fails the test. Each cell's printed output is kept in {@code target/notebook-run/cell-N.txt}.
 */
class NotebookTest {

    static final Path NOTEBOOK = RepoPaths.module().resolve("notebooks").resolve("transfer-learning.ipynb");

    static List<String> codeCells(Path notebook) throws Exception {
        JsonNode root = new ObjectMapper().readTree(notebook.toFile());
        List<String> cells = new ArrayList<>();
        for (JsonNode cell : root.get("cells")) {
            if (!cell.get("cell_type").asText().equals("code")) {
                continue;
            }
            StringBuilder sb = new StringBuilder();
            for (JsonNode line : cell.get("source")) {
                sb.append(line.asText());
            }
            cells.add(sb.toString().lines().filter(l -> !l.stripLeading().startsWith("%"))
                    .collect(Collectors.joining("\n")));
        }
        return cells;
    }

    /** (Bounded: a cell that leaves threads running makes JShell wait for them; the test then fails, not hangs.) */
    @Test
    @Timeout(value = 10, unit = java.util.concurrent.TimeUnit.MINUTES)
    void everyCodeCellRunsInJShell(@TempDir Path out) throws Exception {
        List<String> cells = codeCells(NOTEBOOK);
        assertTrue(cells.size() >= 5, "code cells: " + cells.size());
        Path logs = RepoPaths.module().resolve("target").resolve("notebook-run");
        Files.createDirectories(logs);
        System.setProperty("notebook.out", out.toString());
        PrintStream console = System.out;
        try (JShell shell = JShell.builder().executionEngine("local").out(console).err(System.err).build()) {
            for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
                shell.addToClasspath(entry);
            }
            for (int i = 0; i < cells.size(); i++) {
                ByteArrayOutputStream captured = new ByteArrayOutputStream();
                System.setOut(new PrintStream(new Tee(console, captured), true, StandardCharsets.UTF_8));
                try {
                    run(shell, i + 1, cells.get(i));
                } finally {
                    System.out.flush();
                    System.setOut(console);
                }
                Files.write(logs.resolve("cell-" + (i + 1) + ".txt"), captured.toByteArray());
            }
        } finally {
            System.clearProperty("notebook.out");
        }
        assertTrue(Files.size(out.resolve("transfer-learning-curve.png")) > 0, "the chart was written");
        assertTrue(Files.size(out.resolve("transfer-learning-notebook.zip")) > 0, "the model was saved");
        Files.copy(out.resolve("transfer-learning-curve.png"), logs.resolve("transfer-learning-curve.png"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /** Evaluates one cell snippet by snippet; fails on anything that is not a clean run. */
    private static void run(JShell shell, int cell, String code) {
        String remaining = code;
        while (!remaining.isBlank()) {
            SourceCodeAnalysis.CompletionInfo info = shell.sourceCodeAnalysis().analyzeCompletion(remaining);
            if (info.completeness() == SourceCodeAnalysis.Completeness.EMPTY) {
                break;
            }
            if (!info.completeness().isComplete()) {
                fail("cell " + cell + ": incomplete code: " + remaining);
            }
            for (SnippetEvent e : shell.eval(info.source())) {
                Snippet s = e.snippet();
                String where = "cell " + cell + ": " + s.source().strip().lines().findFirst().orElse("");
                if (e.status() == Snippet.Status.REJECTED) {
                    fail(where + "\n" + shell.diagnostics(s).map(d -> d.getMessage(null))
                            .collect(Collectors.joining("\n")));
                }
                if (e.status() == Snippet.Status.RECOVERABLE_DEFINED
                        || e.status() == Snippet.Status.RECOVERABLE_NOT_DEFINED) {
                    fail(where + ": unresolved references");
                }
                if (e.exception() != null) {
                    fail(where + ": " + e.exception(), e.exception());
                }
            }
            remaining = info.remaining();
        }
    }

    /** Writes to two streams. */
    private static final class Tee extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        Tee(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int c) throws java.io.IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws java.io.IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }

        @Override
        public void flush() throws java.io.IOException {
            a.flush();
            b.flush();
        }
    }
}
