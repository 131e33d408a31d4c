package io.efficientnet.core.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.model.Padding;
import io.efficientnet.core.model.Pooling;
import io.efficientnet.core.weights.ImageNetPreprocessing;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.preprocessor.NormalizerStandardize;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Exported ONNX files run in ONNX Runtime (Java) and give the DL4J network's outputs: probabilities within 1e-4
 * absolute, features within 1e-4 of their largest magnitude.
 */
@Tag("numeric")
class OnnxExportTest {

    @TempDir
    Path dir;

    private List<INDArray> runOnnx(Path file, INDArray x) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(file.toString(), new OrtSession.SessionOptions());
             OnnxTensor input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x.dup('c').data().asFloat()),
                     x.shape())) {
            try (OrtSession.Result r = session.run(Map.of(session.getInputNames().iterator().next(), input))) {
                List<INDArray> outs = new ArrayList<>();
                for (var e : r) {
                    OnnxTensor t = (OnnxTensor) e.getValue();
                    long[] shape = t.getInfo().getShape();
                    float[] data = new float[(int) t.getInfo().getNumElements()];
                    t.getFloatBuffer().get(data);
                    outs.add(Nd4j.createFromArray(data).reshape(shape));
                }
                return outs;
            }
        }
    }

    private static INDArray input(long n, long h, long w, double scale) {
        Nd4j.getRandom().setSeed(7);
        return Nd4j.rand(DataType.FLOAT, n, 3, h, w).muli(scale);
    }

    private static void assertClose(INDArray expected, INDArray actual, double tolerance, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what + " shape");
        double diff = expected.sub(actual).amaxNumber().doubleValue();
        assertTrue(diff <= tolerance, what + ": largest difference " + diff + " > " + tolerance);
    }

    @Test
    void classifiersWithSameAndSymmetricPaddingGiveDl4jsProbabilitiesAtAnyBatchSize() throws Exception {
        for (Padding padding : Padding.values()) {
            ComputationGraph net = EfficientNet.builder().phi(-3).resolution(64).numClasses(10).padding(padding)
                    .build().init();
            Path file = dir.resolve("classifier-" + padding + ".onnx");
            OnnxExport.write(net, file, OnnxOptions.defaults());
            for (long n : new long[] {1, 3}) {
                INDArray x = input(n, 64, 64, 1);
                INDArray expected = net.output(false, x)[0];
                INDArray actual = runOnnx(file, x).get(0);
                assertClose(expected, actual, 1e-4, padding + " probabilities, batch " + n);
            }
        }
    }

    @Test
    void headlessMultiScaleAndTransferLearnedGraphsExport() throws Exception {
        ComputationGraph features = EfficientNet.builder().phi(-3).resolution(64).includeTop(false)
                .pooling(Pooling.AVG).build().init();
        ComputationGraph scales = EfficientNet.builder().phi(-3).resolution(64).multiScaleFeatures(true).build()
                .init();
        ComputationGraph transferred = new TransferLearning.GraphBuilder(EfficientNet.builder().phi(-3)
                .resolution(64).numClasses(10).build().init())
                .fineTuneConfiguration(new FineTuneConfiguration.Builder().seed(3L).build())
                .setFeatureExtractor("top_activation").nOutReplace("predictions", 4, WeightInit.XAVIER).build();
        INDArray x = input(2, 64, 64, 1);
        for (ComputationGraph net : List.of(features, scales, transferred)) {
            Path file = dir.resolve("net.onnx");
            OnnxExport.write(net, file, OnnxOptions.defaults().withOpset(17));
            INDArray[] expected = net.output(false, x);
            List<INDArray> actual = runOnnx(file, x);
            assertEquals(expected.length, actual.size(), "outputs");
            for (int i = 0; i < expected.length; i++) {
                double scale = expected[i].amaxNumber().doubleValue();
                assertClose(expected[i], actual.get(i), 1e-4 * Math.max(scale, 1e-3),
                        net.getConfiguration().getNetworkOutputs().get(i));
            }
        }
        assertEquals(5, scales.getConfiguration().getNetworkOutputs().size(), "strides 2, 4, 8, 16 and 32");
    }

    @Test
    void theGoldenKerasB0ExportedWithItsNormaliserGivesKerassPredictionsInOnnxRuntime() throws Exception {
        Path weights = Path.of(getClass().getClassLoader().getResource("golden/efficientnet-b0-keras-random.h5")
                .toURI());
        INDArray raw;
        INDArray expected;
        try (io.jhdf.HdfFile f = new io.jhdf.HdfFile(Path.of(getClass().getClassLoader()
                .getResource("golden/efficientnet-b0-keras-random.golden.h5").toURI()))) {
            raw = dataset(f, "input");
            expected = dataset(f, "predictions");
        }
        ComputationGraph net = EfficientNet.builder().variant(io.efficientnet.core.model.Variant.B0).build().init();
        var imported = io.efficientnet.core.weights.KerasWeightImporter.load(net, weights, "b0");
        Path file = dir.resolve("keras-b0.onnx");
        OnnxExport.write(net, file, OnnxOptions.defaults().withPreprocessing(imported.normalizer()));
        INDArray actual = runOnnx(file, raw).get(0);
        assertClose(expected, actual, 1e-4, "Keras' golden predictions from the raw golden input");
        assertEquals(expected.argMax(1), actual.argMax(1));
    }

    private static INDArray dataset(io.jhdf.HdfFile f, String name) {
        var ds = f.getDatasetByPath(name);
        long[] shape = java.util.Arrays.stream(ds.getDimensions()).asLongStream().toArray();
        return Nd4j.createFromArray((float[]) ds.getDataFlat()).reshape(shape);
    }

    @Test
    void withPreprocessingTheGraphTakesRawPixels() throws Exception {
        ComputationGraph net = EfficientNet.builder().phi(-3).resolution(64).numClasses(10).build().init();
        NormalizerStandardize normalizer = ImageNetPreprocessing.normalizer();
        Path file = dir.resolve("raw.onnx");
        OnnxExport.write(net, file, OnnxOptions.defaults().withPreprocessing(normalizer));
        INDArray raw = input(2, 64, 64, 255);
        INDArray normalised = raw.dup();
        normalizer.transform(normalised);
        assertClose(net.output(false, normalised)[0], runOnnx(file, raw).get(0), 1e-4, "probabilities");
    }

    @Test
    void anUnsupportedLayerIsRefusedNamingTheVertexAndNothingIsWritten() throws Exception {
        ComputationGraph net = new TransferLearning.GraphBuilder(EfficientNet.builder().phi(-3).resolution(64)
                .numClasses(10).build().init())
                .addLayer("pool", new SubsamplingLayer.Builder().kernelSize(2, 2).stride(2, 2).build(), "stem_activation")
                .setOutputs("predictions", "pool").build();
        Path file = dir.resolve("refused.onnx");
        Files.writeString(file, "earlier content");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OnnxExport.write(net, file, OnnxOptions.defaults()));
        assertTrue(e.getMessage().contains("'pool'") && e.getMessage().contains("SubsamplingLayer"), e.getMessage());
        assertEquals("earlier content", Files.readString(file), "nothing written");
        assertThrows(IllegalArgumentException.class, () -> OnnxOptions.defaults().withOpset(12));
    }

    @Test
    void anUnwritableTargetIsAnIoErrorNamingIt() {
        ComputationGraph net = EfficientNet.builder().phi(-3).resolution(64).numClasses(10).build().init();
        Path target = dir.resolve("missing-parent-is-a-file");
        IOException e = assertThrows(IOException.class, () -> {
            Files.writeString(target, "x");
            OnnxExport.write(net, target.resolve("model.onnx"), OnnxOptions.defaults());
        });
        assertTrue(e.getMessage().startsWith("cannot write " + target.resolve("model.onnx")), e.getMessage());
    }
}
