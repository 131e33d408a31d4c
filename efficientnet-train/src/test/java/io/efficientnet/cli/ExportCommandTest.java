package io.efficientnet.cli;

import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.model.Pooling;
import io.efficientnet.core.weights.ImageNetPreprocessing;
import io.efficientnet.core.weights.ModelZip;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.preprocessor.DataNormalization;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;

import static io.efficientnet.core.inference.BatchNormTestSupport.batchNormCount;
import static io.efficientnet.core.inference.BatchNormTestSupport.randomizeBatchNorms;
import static io.efficientnet.core.inference.BatchNormTestSupport.relativeError;
import static org.junit.jupiter.api.Assertions.*;

/** {@code efficientnet export}: folded models compute the same function, zips keep their extras, writes are atomic. */
class ExportCommandTest {

    @TempDir
    static Path dir;
    static ComputationGraph original;
    static Path input;
    static final List<String> LABELS = IntStream.range(0, 10).mapToObj(i -> "class-" + i).toList();

    @BeforeAll
    static void writeModelWithRandomBatchNormStatistics() throws Exception {
        original = EfficientNet.builder().phi(-3).resolution(32).numClasses(10).build().init();
        randomizeBatchNorms(original, 21);
        input = dir.resolve("tiny.zip");
        ModelZip.write(original, input, false, ImageNetPreprocessing.normalizer(),
                ModelZip.describe(new int[] {3, 32, 32}, 0.875, LABELS));
    }

    static void assertNoTemporaryFiles(Path folder) throws Exception {
        try (var files = Files.list(folder)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary files left");
        }
    }

    @Test
    void optimizedExportComputesTheSameFunctionAndKeepsTheExtras() throws Exception {
        Path out = dir.resolve("tiny-folded.zip");
        Object[] r = SummaryCommandTest.run("export", "--model", input.toString(), "--optimize-for-inference",
                "--output", out.toString());
        assertEquals(0, r[0], (String) r[2]);
        int bns = batchNormCount(original);
        assertTrue(((String) r[1]).contains("Folded " + bns + " batch norms"), (String) r[1]);
        assertTrue(((String) r[1]).contains("Kept the normalizer"), (String) r[1]);

        ComputationGraph folded = ModelSerializer.restoreComputationGraph(out.toFile(), false);
        assertEquals(0, batchNormCount(folded));
        // a fused batch norm + swish leaves its swish behind (same name); the projection batch norms disappear
        long fused = java.util.Arrays.stream(original.getLayers()).filter(l -> l.conf().getLayer()
                instanceof io.efficientnet.core.layers.FastBatchNormalization f && f.isSwish()).count();
        assertTrue(fused > 0);
        assertEquals(original.getLayers().length - (bns - fused), folded.getLayers().length);
        assertInstanceOf(org.deeplearning4j.nn.conf.layers.ActivationLayer.class,
                folded.getLayer("stem_activation").conf().getLayer());
        assertTrue(folded.numParams() < original.numParams());
        INDArray x = Nd4j.randn(DataType.FLOAT, 4, 3, 32, 32);
        double err = relativeError(folded.outputSingle(false, x.dup()), original.outputSingle(false, x.dup()));
        assertTrue(err < 1e-4, "relative difference " + err);

        DataNormalization norm = ModelSerializer.restoreNormalizerFromFile(out.toFile());
        assertNotNull(norm, "normalizer carried over");
        INDArray pixels = Nd4j.rand(DataType.FLOAT, 1, 3, 4, 4).muli(255);
        INDArray a = pixels.dup();
        INDArray b = pixels.dup();
        norm.transform(a);
        ImageNetPreprocessing.normalizer().transform(b);
        assertEquals(b, a);
        assertEquals(String.join("\n", LABELS) + "\n", ModelZip.readEntry(out, ModelZip.LABELS));
        assertArrayEquals(new int[] {3, 32, 32}, ModelZip.readInputShape(out));
        assertEquals(0.875, ModelZip.readEvalCrop(out), "the evaluation crop carried over");
        assertNull(ModelZip.readEntry(out, ModelSerializer.UPDATER_BIN), "no updater state in an export");
        assertNoTemporaryFiles(dir);

        // the exported model can be timed like the original
        Object[] bench = SummaryCommandTest.run("benchmark", "--model", out.toString(), "--batch-size", "2",
                "--warmup", "0", "--iterations", "1", "--json");
        assertEquals(0, bench[0], (String) bench[2]);
        JsonNode j = new ObjectMapper().readTree((String) bench[1]);
        assertEquals(out.toString(), j.get("model").asText());
        assertEquals("[3,32,32]", j.get("inputShape").toString());
        assertEquals(folded.numParams(), j.get("params").asLong());
    }

    @Test
    void headlessExportWithoutOptimizationAndWithIt() throws Exception {
        ComputationGraph headless = EfficientNet.builder().phi(-3).resolution(32).includeTop(false)
                .pooling(Pooling.AVG).build().init();
        randomizeBatchNorms(headless, 22);
        Path in = dir.resolve("headless.zip");
        ModelZip.write(headless, in, false, null, ModelZip.describe(new int[] {3, 32, 32}, 0.875, null));
        Path plain = dir.resolve("headless-plain.zip");
        Path folded = dir.resolve("headless-folded.zip");
        Object[] r = SummaryCommandTest.run("export", "--model", in.toString(), "--output", plain.toString());
        assertEquals(0, r[0], (String) r[2]);
        assertFalse(((String) r[1]).contains("Folded"), (String) r[1]);
        r = SummaryCommandTest.run("export", "--model", in.toString(), "--optimize-for-inference", "--output",
                folded.toString());
        assertEquals(0, r[0], (String) r[2]);
        assertFalse(((String) r[1]).contains("normalizer"), "there was none: " + r[1]);

        INDArray x = Nd4j.randn(DataType.FLOAT, 2, 3, 32, 32);
        INDArray expected = headless.outputSingle(false, x.dup());
        ComputationGraph p = ModelSerializer.restoreComputationGraph(plain.toFile(), false);
        ComputationGraph f = ModelSerializer.restoreComputationGraph(folded.toFile(), false);
        assertEquals(headless.getLayers().length, p.getLayers().length);
        assertEquals(expected, p.outputSingle(false, x.dup()));
        assertTrue(f.getLayers().length < headless.getLayers().length);
        double err = relativeError(f.outputSingle(false, x.dup()), expected);
        assertTrue(err < 1e-4, "relative difference " + err);
        assertNull(ModelSerializer.restoreNormalizerFromFile(folded.toFile()));
        assertArrayEquals(new int[] {3, 32, 32}, ModelZip.readInputShape(folded));
    }

    @Test
    void badInputsGiveClearErrorsAndLeaveTheOutputAlone() throws Exception {
        Path out = dir.resolve("existing.zip");
        Files.writeString(out, "previous content");

        Object[] r = SummaryCommandTest.run("export", "--model", dir.resolve("missing.zip").toString(),
                "--optimize-for-inference", "--output", out.toString());
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("missing.zip does not exist"), (String) r[2]);

        Path text = dir.resolve("notes.zip");
        Files.writeString(text, "this is not a zip");
        r = SummaryCommandTest.run("export", "--model", text.toString(), "--optimize-for-inference", "--output",
                out.toString());
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("notes.zip is not a model zip"), (String) r[2]);

        Path otherZip = dir.resolve("other.zip");
        try (var zip = java.nio.file.FileSystems.newFileSystem(otherZip, java.util.Map.of("create", "true"))) {
            Files.writeString(zip.getPath("readme.txt"), "hello");
        }
        r = SummaryCommandTest.run("export", "--model", otherZip.toString(), "--output", out.toString());
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("other.zip is not a DL4J model zip"), (String) r[2]);

        assertEquals("previous content", Files.readString(out), "a failed export leaves the output untouched");
        assertNoTemporaryFiles(dir);
    }

    @Test
    void aWriteThatFailsAtTheEndLeavesNothingHalfWritten() throws Exception {
        // the target is a non-empty directory: everything is written to the temporary file, then the final rename
        // fails; neither the target nor a partial file may remain changed
        Path target = dir.resolve("occupied.zip");
        Files.createDirectories(target);
        Files.writeString(target.resolve("keep.txt"), "keep");
        Object[] r = SummaryCommandTest.run("export", "--model", input.toString(), "--optimize-for-inference",
                "--output", target.toString());
        assertEquals(2, r[0], (String) r[1]);
        assertTrue(Files.isDirectory(target));
        assertEquals("keep", Files.readString(target.resolve("keep.txt")));
        assertNoTemporaryFiles(dir);
    }
}
