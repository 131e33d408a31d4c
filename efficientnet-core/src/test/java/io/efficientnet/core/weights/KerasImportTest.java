package io.efficientnet.core.weights;

import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.model.Pooling;
import io.efficientnet.core.model.Variant;
import io.jhdf.HdfFile;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.preprocessor.NormalizerStandardize;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Keras weight import against the golden B0 outputs, and against our own Keras-layout files for other variants. */
class KerasImportTest {

    static Path weights;
    static Map<String, INDArray> golden;

    @BeforeAll
    static synchronized void readGolden() throws URISyntaxException {
        if (golden != null) {
            return;
        }
        weights = resource("golden/efficientnet-b0-keras-random.h5");
        Map<String, INDArray> g = new java.util.HashMap<>();
        try (HdfFile f = new HdfFile(resource("golden/efficientnet-b0-keras-random.golden.h5"))) {
            for (String name : new String[] {"input", "stem_activation", "block1a", "top_activation", "avg_pool",
                    "logits", "predictions"}) {
                var ds = f.getDatasetByPath(name);
                long[] shape = java.util.Arrays.stream(ds.getDimensions()).asLongStream().toArray();
                g.put(name, Nd4j.createFromArray((float[]) ds.getDataFlat()).reshape(shape));
            }
        }
        golden = g;
    }

    static Path resource(String name) throws URISyntaxException {
        return Path.of(KerasImportTest.class.getClassLoader().getResource(name).toURI());
    }

    /** max |a−b| / max |b|. */
    static double relError(INDArray actual, INDArray expected) {
        return actual.castTo(expected.dataType()).sub(expected).amaxNumber().doubleValue()
                / expected.amaxNumber().doubleValue();
    }

    @Test
    void goldenB0ReproducesKerasLayerByLayer() throws IOException {
        ComputationGraph net = EfficientNet.builder().variant(Variant.B0).build().init();
        KerasWeightImporter.Result r = KerasWeightImporter.load(net, weights, "b0");
        assertEquals(5288548 + 42016, r.valuesLoaded());
        INDArray x = golden.get("input").dup();
        r.normalizer().transform(x);
        Map<String, INDArray> acts = net.feedForward(x, false);
        assertTrue(relError(acts.get("stem_activation"), golden.get("stem_activation")) < 1e-4, "stem_activation");
        assertTrue(relError(acts.get("block1a_project_bn"), golden.get("block1a")) < 1e-4, "block1a");
        assertTrue(relError(acts.get("top_activation"), golden.get("top_activation")) < 1e-4, "top_activation");
        assertTrue(relError(acts.get("avg_pool"), golden.get("avg_pool")) < 1e-4, "avg_pool");
        INDArray logits = acts.get("avg_pool").mmul(net.getLayer("predictions").getParam("W"))
                .addRowVector(net.getLayer("predictions").getParam("b"));
        assertTrue(relError(logits, golden.get("logits")) < 1e-4, "logits");
        INDArray predictions = net.outputSingle(x);
        double absErr = predictions.sub(golden.get("predictions")).amaxNumber().doubleValue();
        assertTrue(absErr < 1e-5, "predictions abs error " + absErr);
        // The two samples have different confident top classes.
        assertEquals(golden.get("predictions").argMax(1), predictions.argMax(1));
    }

    @Test
    void normalizerComesFromTheFilesNormalizationLayer() throws IOException {
        ComputationGraph net = EfficientNet.builder().resolution(64).build().init();
        NormalizerStandardize n = KerasWeightImporter.load(net, weights, "b0").normalizer();
        assertEquals(0.485 * 255, n.getMean().getDouble(0), 1e-3);
        assertEquals(0.225 * 255, n.getStd().getDouble(2), 1e-3);
    }

    @Test
    void noTopWithAvgPoolingMatchesGoldenAvgPool(@TempDir Path dir) throws IOException {
        Path notop = dir.resolve("b0_notop.h5");
        ComputationGraph withTop = EfficientNet.builder().build().init();
        KerasWeightImporter.load(withTop, weights, "b0");
        KerasFileWriter.write(withTop, notop, Map.of("predictions", ""));
        ComputationGraph net = EfficientNet.builder().includeTop(false).pooling(Pooling.AVG).build().init();
        KerasWeightImporter.Result r = KerasWeightImporter.load(net, notop, "b0");
        INDArray x = golden.get("input").dup();
        r.normalizer().transform(x);
        assertTrue(relError(net.outputSingle(x), golden.get("avg_pool")) < 1e-4);
    }

    @Test
    void ownKerasFilesForOtherVariantsAndResolutions(@TempDir Path dir) throws IOException {
        Object[][] cases = {{Variant.B1, 64}, {Variant.B3, 96}};
        for (Object[] c : cases) {
            Variant v = (Variant) c[0];
            int res = (Integer) c[1];
            ComputationGraph source = EfficientNet.builder().variant(v).resolution(res).seed(1).build().init();
            // Make batch-norm statistics non-trivial so that the variance mapping is exercised.
            Nd4j.getRandom().setSeed(res);
            for (var layer : source.getLayers()) {
                if (layer.paramTable().containsKey("log10stdev")) {
                    layer.getParam("mean").assign(Nd4j.randn(layer.getParam("mean").shape()).muli(0.1));
                    layer.getParam("log10stdev").assign(Nd4j.rand(layer.getParam("log10stdev").shape()).muli(0.2)
                            .subi(0.1));
                }
            }
            Path file = dir.resolve(v.id() + ".h5");
            KerasFileWriter.write(source, file, Map.of());
            ComputationGraph target = EfficientNet.builder().variant(v).resolution(res).seed(99).build().init();
            KerasWeightImporter.load(target, file, v.id());
            Nd4j.getRandom().setSeed(res + 1);
            INDArray x = Nd4j.randn(2, 3, res, res);
            INDArray expected = source.outputSingle(x);
            assertTrue(relError(target.outputSingle(x), expected) < 1e-5, v + " outputs after import");
            assertEquals(source.params(), target.params());
        }
    }

    @Test
    void badFilesGiveClearErrorsAndLeaveTheNetworkUntouched(@TempDir Path dir) throws IOException {
        ComputationGraph net = EfficientNet.builder().resolution(64).build().init();
        INDArray before = net.params().dup();

        Path text = dir.resolve("weights.h5");
        Files.writeString(text, "this is not hdf5");
        IOException e = assertThrows(IOException.class, () -> KerasWeightImporter.load(net, text, "b0"));
        assertTrue(e.getMessage().contains("is not an HDF5 file") && e.getMessage().contains("weights.h5"),
                e.getMessage());

        Path truncated = dir.resolve("truncated.h5");
        byte[] all = Files.readAllBytes(weights);
        Files.write(truncated, java.util.Arrays.copyOf(all, all.length / 3));
        e = assertThrows(IOException.class, () -> KerasWeightImporter.load(net, truncated, "b0"));
        assertTrue(e.getMessage().contains("truncated.h5"), e.getMessage());

        e = assertThrows(IOException.class, () -> KerasWeightImporter.load(net, dir.resolve("missing.h5"), "b0"));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());

        // B1 weights into a B0 model: extra blocks, named variant
        Path b1 = dir.resolve("b1.h5");
        KerasFileWriter.write(EfficientNet.builder().variant(Variant.B1).resolution(64).build().init(), b1, Map.of());
        e = assertThrows(IOException.class, () -> KerasWeightImporter.load(net, b1, "b0"));
        assertTrue(e.getMessage().contains("this looks like B1 weights, not B0"), e.getMessage());

        // B2 (wider) weights into B1: shapes differ
        ComputationGraph b1net = EfficientNet.builder().variant(Variant.B1).resolution(64).build().init();
        Path b2 = dir.resolve("b2.h5");
        KerasFileWriter.write(EfficientNet.builder().variant(Variant.B2).resolution(64).build().init(), b2, Map.of());
        e = assertThrows(IOException.class, () -> KerasWeightImporter.load(b1net, b2, "b1"));
        assertTrue(e.getMessage().contains("B2"), e.getMessage());

        // No-top file into a model with top, and the reverse
        Path notop = dir.resolve("notop.h5");
        KerasFileWriter.write(net, notop, Map.of("predictions", ""));
        e = assertThrows(IOException.class, () -> KerasWeightImporter.load(net, notop, "b0"));
        assertTrue(e.getMessage().contains("no-top"), e.getMessage());
        ComputationGraph headless = EfficientNet.builder().resolution(64).includeTop(false).build().init();
        e = assertThrows(IOException.class, () -> KerasWeightImporter.load(headless, weights, "b0"));
        assertTrue(e.getMessage().contains("without top"), e.getMessage());

        // Class count differs
        ComputationGraph tenClasses = EfficientNet.builder().resolution(64).numClasses(10).build().init();
        e = assertThrows(IOException.class, () -> KerasWeightImporter.load(tenClasses, weights, "b0"));
        assertTrue(e.getMessage().contains("1000 classes") && e.getMessage().contains("numClasses(1000)"),
                e.getMessage());

        // Missing layer
        Path missing = dir.resolve("missing-layer.h5");
        KerasFileWriter.write(net, missing, Map.of("block3b_dwconv", ""));
        e = assertThrows(IOException.class, () -> KerasWeightImporter.load(net, missing, "b0"));
        assertTrue(e.getMessage().contains("'block3b_dwconv' is missing"), e.getMessage());

        assertEquals(before, net.params(), "failed imports must not change the network");
    }
}
