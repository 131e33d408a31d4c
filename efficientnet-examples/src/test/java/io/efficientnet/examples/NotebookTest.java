package io.efficientnet.examples;

import io.efficientnet.train.run.SavedModel;
import jdk.jshell.JShell;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;
import jdk.jshell.VarSnippet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.node.ArrayNode;
import org.nd4j.shade.jackson.databind.node.JsonNodeFactory;
import org.nd4j.shade.jackson.databind.node.ObjectNode;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs the code cells of {@code notebooks/transfer-learning.ipynb} in order through JShell, in this JVM ("local"
 * execution) with its class path (the built jars); lines starting with {@code %} (kernel magics) are skipped and
 * {@code display(Object)}, which Jupyter's Java kernels provide, is defined to hand the object to this test
 * ({@link NotebookDisplay}). Any rejected snippet, unresolved reference or exception fails the test. Each cell's
 * printed output is kept in {@code target/notebook-run/cell-N.txt}, the displayed charts as {@code display-N.png}.
 *
 * <p>System properties, passed on by surefire from Maven's command line:
 * <ul>
 *   <li>{@code notebook.fast} (default {@code true}): the notebook's short setting; {@code false} is the full run;</li>
 *   <li>{@code notebook.out}: the notebook's output folder, relative to the repository root (default: a temporary
 *       folder; {@code runs/notebook} when writing);</li>
 *   <li>{@code notebook.write=true}: writes each code cell's outputs (printed text, displayed images) and execution
 *       count into the notebook file, in Jupyter's own JSON layout. How the committed outputs were made:
 *       <pre>mvn test -pl efficientnet-examples -Dtest=NotebookTest -Dnotebook.write=true -Dnotebook.fast=false</pre>
 *       (a slow machine may need {@code -Djunit.jupiter.execution.timeout.mode=disabled} as well).</li>
 * </ul>
 */
class NotebookTest {

    static final Path NOTEBOOK = RepoPaths.module().resolve("notebooks").resolve("transfer-learning.ipynb");
    static final List<String> METHODS = List.of("from scratch", "frozen backbone", "fine-tuned");
    /** The file the notebook saves in its output folder. */
    static final String MODEL_ZIP = "fashion-transfer.zip";

    /** The accuracy that ignoring the images cannot reach: chance plus four binomial standard deviations. */
    static double aboveChance(int classes, int images) {
        double chance = 1.0 / classes;
        return chance + 4 * Math.sqrt(chance * (1 - chance) / images);
    }

    /** A cell's code as JShell gets it: without the kernel's magic lines. */
    static String withoutMagics(String code) {
        return code.lines().filter(l -> !l.stripLeading().startsWith("%")).collect(Collectors.joining("\n"));
    }

    /** (Bounded: a cell that leaves threads running makes JShell wait for them; the test then fails, not hangs.) */
    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void everyCodeCellRunsInJShell(@TempDir Path temp) throws Exception {
        boolean write = Boolean.getBoolean("notebook.write");
        boolean fast = Boolean.parseBoolean(System.getProperty("notebook.fast", "true"));
        String outGiven = System.getProperty("notebook.out");
        Path out = outGiven != null ? RepoPaths.root().resolve(outGiven).normalize()
                : write ? RepoPaths.root().resolve("runs").resolve("notebook") : temp;

        ObjectNode notebook = NotebookJson.read(NOTEBOOK);
        List<ObjectNode> cells = NotebookJson.codeCells(notebook);
        assertTrue(cells.size() >= 5, "code cells: " + cells.size());
        Path logs = RepoPaths.module().resolve("target").resolve("notebook-run");
        Files.createDirectories(logs);
        List<BufferedImage> shown = new ArrayList<>();
        StringBuilder printed = new StringBuilder();
        double frozenAt10;
        int validationImages;

        Map<String, String> before = new HashMap<>();
        for (String p : List.of("notebook.fast", "notebook.out")) {
            before.put(p, System.getProperty(p));
        }
        System.setProperty("notebook.fast", Boolean.toString(fast));
        System.setProperty("notebook.out", out.toString());
        PrintStream console = System.out;
        try (JShell shell = JShell.builder().executionEngine("local").out(console).err(System.err).build()) {
            for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
                shell.addToClasspath(entry);
            }
            run(shell, 0, "void display(Object o) { " + NotebookDisplay.class.getName() + ".show(o); }");
            for (int i = 0; i < cells.size(); i++) {
                CellOutput output = new CellOutput(console);
                System.setOut(output.printStream);
                NotebookDisplay.sendTo(output::display);
                try {
                    run(shell, i + 1, withoutMagics(NotebookJson.source(cells.get(i))));
                } finally {
                    System.out.flush();
                    System.setOut(console);
                    NotebookDisplay.sendTo(o -> { });
                }
                output.finish();
                Files.writeString(logs.resolve("cell-" + (i + 1) + ".txt"), output.text);
                for (BufferedImage image : output.images) {
                    shown.add(image);
                    ImageIO.write(image, "png", logs.resolve("display-" + shown.size() + ".png").toFile());
                }
                printed.append(output.text);
                cells.get(i).put("execution_count", i + 1);
                cells.get(i).set("outputs", output.json);
            }
            frozenAt10 = Double.parseDouble(variable(shell, "frozenAt10"));
            validationImages = Integer.parseInt(value(shell, "valImages.size()"));
        } finally {
            before.forEach((p, v) -> {
                if (v == null) {
                    System.clearProperty(p);
                } else {
                    System.setProperty(p, v);
                }
            });
        }

        String text = printed.toString();
        assertTrue(text.lines().anyMatch(l -> METHODS.stream().allMatch(l::contains)),
                "a table with a column for each of " + METHODS + " was printed:\n" + text);
        assertTrue(text.lines().anyMatch(l -> l.matches("10\\s+\\|.*%.*\\|.*%.*\\|.*%.*")),
                "the table has a row for 10 labels per class:\n" + text);
        assertEquals(250, validationImages, "every validation image of the five target classes");
        double bound = aboveChance(5, validationImages);
        assertTrue(frozenAt10 > bound, "frozen backbone at 10 labels per class: " + frozenAt10 + ", chance bound "
                + bound);
        assertEquals(2, shown.size(), "charts displayed: accuracy by label budget, training loss");
        for (BufferedImage image : shown) {
            assertTrue(image.getWidth() >= 400 && image.getHeight() >= 300, image.getWidth() + "x" + image.getHeight());
        }
        Path zip = out.resolve(MODEL_ZIP);
        assertTrue(Files.isRegularFile(zip) && Files.size(zip) > 0, "the model was saved");
        assertEquals(TransferStudy.TARGET_CLASSES, SavedModel.load(zip).labels(), "the saved model's classes");
        for (String where : List.of(temp.toString(), out.toAbsolutePath().toString(), RepoPaths.root().toString())) {
            assertFalse(text.contains(where), "the outputs print no absolute path (" + where + "):\n" + text);
        }

        if (write) {
            NotebookJson.writeAtomically(NOTEBOOK, notebook);
            String file = Files.readString(NOTEBOOK);
            assertFalse(hasTemporaryPath(file), "no temporary path in the notebook");
            console.println("wrote the outputs of " + cells.size() + " code cells into " + NOTEBOOK);
        }
    }

    /**
     * The notebook file is in Jupyter's layout, and its code cells carry the outputs of one run, in order: every cell
     * that prints or displays has outputs (rerun the writing mode after changing a code cell).
     */
    @Test
    void theCommittedNotebookCarriesTheOutputsOfARun() throws Exception {
        String file = Files.readString(NOTEBOOK);
        ObjectNode notebook = NotebookJson.read(NOTEBOOK);
        assertEquals(file, NotebookJson.format(notebook), "the file is laid out as Jupyter writes it");
        assertEquals(4, notebook.get("nbformat").asInt());
        List<ObjectNode> cells = NotebookJson.codeCells(notebook);
        for (int i = 0; i < cells.size(); i++) {
            assertEquals(i + 1, cells.get(i).get("execution_count").asInt(), "execution count of code cell " + (i + 1));
            String code = NotebookJson.source(cells.get(i));
            if (code.contains("System.out.print") || code.contains("display(")) {
                assertTrue(cells.get(i).get("outputs").size() > 0, "outputs of code cell " + (i + 1));
            }
        }
        long images = cells.stream().flatMap(c -> toList(c.get("outputs")).stream())
                .filter(o -> o.path("data").has("image/png")).count();
        assertEquals(2, images, "the two charts");
        assertFalse(hasTemporaryPath(file), "no temporary path in the notebook");
    }

    private static List<JsonNode> toList(JsonNode array) {
        List<JsonNode> l = new ArrayList<>();
        array.forEach(l::add);
        return l;
    }

    /** The value of the notebook's variable {@code name}, as JShell prints it. */
    private static String variable(JShell shell, String name) {
        VarSnippet v = shell.variables().filter(s -> s.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("the notebook defines no variable " + name));
        return shell.varValue(v);
    }

    /** The value of an expression in the notebook's state. */
    private static String value(JShell shell, String expression) {
        List<SnippetEvent> events = shell.eval(expression);
        SnippetEvent e = events.get(events.size() - 1);
        if (e.exception() != null || e.value() == null) {
            fail(expression + ": " + e.exception() + " " + e.status());
        }
        return e.value();
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

    /**
     * What one cell shows, in order, as nbformat outputs: the printed text (also echoed to the console) up to each
     * displayed object, the object, and so on.
     */
    private static final class CellOutput {
        final ByteArrayOutputStream pending = new ByteArrayOutputStream();
        final PrintStream printStream;
        final ArrayNode json = JsonNodeFactory.instance.arrayNode();
        final List<BufferedImage> images = new ArrayList<>();
        String text = "";

        CellOutput(PrintStream console) {
            printStream = new PrintStream(new Tee(console, pending), true, StandardCharsets.UTF_8);
        }

        void display(Object o) {
            flushText();
            if (!(o instanceof BufferedImage image)) {
                throw new IllegalArgumentException("the notebook displays images; got " + o);
            }
            images.add(image);
            ByteArrayOutputStream png = new ByteArrayOutputStream();
            try {
                ImageIO.write(image, "png", png);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            json.add(NotebookJson.png(png.toByteArray(), "chart " + image.getWidth() + "x" + image.getHeight()));
        }

        void finish() {
            flushText();
        }

        private void flushText() {
            printStream.flush();
            String s = pending.toString(StandardCharsets.UTF_8);
            pending.reset();
            if (!s.isEmpty()) {
                text += s;
                json.add(NotebookJson.stream("stdout", s));
            }
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
        public void write(int c) throws IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }

        @Override
        public void flush() throws IOException {
            a.flush();
            b.flush();
        }
    }

    /** Whether the notebook's text (sources and text outputs; not the charts' base64 data) names a temporary path. */
    private static boolean hasTemporaryPath(String notebookJson) {
        String text = notebookJson.replaceAll("\"image/png\": \"[^\"]*\"", "");
        return text.contains("/tmp") || text.contains("junit");
    }
}
