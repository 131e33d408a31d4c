package io.efficientnet.core.onednn;

import io.efficientnet.core.LayerChoices;

import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.model.GraphAssembler;
import io.efficientnet.core.model.Padding;
import io.efficientnet.core.model.Pooling;
import io.efficientnet.core.model.Variant;
import io.efficientnet.core.inference.BatchNormTestSupport;
import io.efficientnet.core.weights.KerasWeightImporter;
import io.jhdf.HdfFile;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static io.efficientnet.core.inference.BatchNormTestSupport.relativeError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Tag("numeric")
class OneDnnInferenceTest {

    private static INDArray goldenInput;
    private static INDArray goldenPredictions;
    private static INDArray goldenAvgPool;

    @BeforeAll
    static void readGolden() throws Exception {
        try (HdfFile f = new HdfFile(resource("golden/efficientnet-b0-keras-random.golden.h5"))) {
            goldenInput = read(f, "input");
            goldenPredictions = read(f, "predictions");
            goldenAvgPool = read(f, "avg_pool");
        }
    }

    private static INDArray read(HdfFile f, String name) {
        var ds = f.getDatasetByPath(name);
        long[] shape = Arrays.stream(ds.getDimensions()).asLongStream().toArray();
        return Nd4j.createFromArray((float[]) ds.getDataFlat()).reshape(shape);
    }

    private static Path resource(String name) throws Exception {
        return Path.of(OneDnnInferenceTest.class.getClassLoader().getResource(name).toURI());
    }

    private static ComputationGraph goldenB0(EfficientNet.Builder builder, INDArray[] normalizedInput)
            throws Exception {
        ComputationGraph net = builder.build().init();
        KerasWeightImporter.Result r = KerasWeightImporter.load(net,
                resource("golden/efficientnet-b0-keras-random.h5"), "b0");
        INDArray x = goldenInput.dup();
        r.normalizer().transform(x);
        normalizedInput[0] = x;
        return net;
    }

    @Test
    void goldenB0MatchesKerasPredictions() throws Exception {
        INDArray[] x = new INDArray[1];
        ComputationGraph net = goldenB0(EfficientNet.builder().variant(Variant.B0), x);
        try (OneDnnInference engine = OneDnnInference.of(net)) {
            INDArray p = engine.output(x[0]);
            assertArrayEquals(new long[] {2, 1000}, p.shape());
            double absErr = p.sub(goldenPredictions).amaxNumber().doubleValue();
            assertTrue(absErr < 1e-5, "predictions abs error " + absErr);
            assertEquals(goldenPredictions.argMax(1), p.argMax(1));
            assertEquals(2.0, p.sumNumber().doubleValue(), 1e-4);
        }
    }

    @Test
    void goldenB0WithoutTopMatchesKerasAvgPool() throws Exception {
        INDArray[] x = new INDArray[1];
        ComputationGraph withTop = goldenB0(EfficientNet.builder(), x);
        ComputationGraph net = EfficientNet.builder().includeTop(false).pooling(Pooling.AVG).build().init();
        net.setParams(withTop.params().get(NDArrayIndex.interval(0, net.numParams())));
        try (OneDnnInference engine = OneDnnInference.of(net)) {
            INDArray pooled = engine.output(x[0]);
            assertArrayEquals(new long[] {2, 1280}, pooled.shape());
            assertTrue(relativeError(pooled, goldenAvgPool) < 1e-4, "avg_pool " + relativeError(pooled, goldenAvgPool));
        }
    }

    @Test
    void lowersB0IntoFusedConvolutions() {
        ComputationGraph net = EfficientNet.builder().resolution(64).build().init();
        LoweredNetwork lowered = GraphLowering.lower(net);
        // stem + 16 blocks × (dw, se_reduce, se_expand, project) + 15 expand convs + top = 81
        assertEquals(81, lowered.count(LoweredOp.Conv.class));
        assertEquals(16, lowered.count(LoweredOp.ChannelScale.class));
        assertEquals(17, lowered.count(LoweredOp.GlobalPool.class)); // 16 SE squeezes + avg_pool
        assertEquals(1, lowered.count(LoweredOp.Dense.class));
        assertEquals(0, lowered.count(LoweredOp.Activation.class)); // every swish/sigmoid is a post-op
        assertEquals(0, lowered.count(LoweredOp.Add.class)); // every residual add is a post-op
        List<LoweredOp.Conv> convs = lowered.ops().stream().filter(LoweredOp.Conv.class::isInstance)
                .map(LoweredOp.Conv.class::cast).toList();
        assertEquals(9, convs.stream().filter(c -> c.addend() != null).count()); // B0's 9 skip blocks
        LoweredOp.Conv stem = convs.get(0);
        assertEquals("stem_conv", stem.name());
        assertEquals(Eltwise.SWISH, stem.activation());
        assertTrue(stem.same() && stem.bias() != null && stem.strideH() == 2);
        LoweredOp.Conv dw = convs.stream().filter(c -> c.name().equals("block2a_dwconv")).findFirst().orElseThrow();
        assertEquals(96, dw.groups());
        LoweredOp.Conv seExpand = convs.stream().filter(c -> c.name().equals("block2a_se_expand")).findFirst()
                .orElseThrow();
        assertEquals(Eltwise.SIGMOID, seExpand.activation());
        LoweredOp.Conv project = convs.stream().filter(c -> c.name().equals("block2b_project_conv")).findFirst()
                .orElseThrow();
        assertEquals("block2a_project_conv", project.addend()); // block2b adds block2a's output
        assertEquals(Eltwise.NONE, project.activation());
        assertEquals(List.of("predictions"), lowered.outputs());
    }

    /** The engine against DL4J's own inference for a network configuration, batch-norm statistics randomised. */
    private static void assertSameAsDl4j(EfficientNet.Builder builder, long... shape) {
        ComputationGraph net = builder.build().init();
        BatchNormTestSupport.randomizeBatchNorms(net, 11);
        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.randn(DataType.FLOAT, shape);
        INDArray[] expected = net.output(false, x);
        try (OneDnnInference engine = OneDnnInference.of(net)) {
            INDArray[] actual = engine.outputs(x);
            assertEquals(expected.length, actual.length);
            for (int i = 0; i < expected.length; i++) {
                assertArrayEquals(expected[i].shape(), actual[i].shape(), "output " + i);
                double err = relativeError(actual[i], expected[i]);
                assertTrue(err < 1e-4, "output " + i + " relative error " + err);
            }
        }
    }

    @Test
    void matchesDl4jWithFusedAndSeparateLayers() {
        assertSameAsDl4j(EfficientNet.builder().resolution(64).numClasses(10), 3, 3, 64, 64);
        // DL4J's own batch norm, activation layers and convolution layers (nothing fused in the graph)
        assertSameAsDl4j(LayerChoices.dl4jLayers(EfficientNet.builder().resolution(64).numClasses(10)), 2, 3,
                64, 64);
    }

    @Test
    void matchesDl4jForOtherShapesAndOptions() {
        assertSameAsDl4j(EfficientNet.builder().resolution(67).padding(Padding.SYMMETRIC).numClasses(5), 2, 3, 67, 67);
        assertSameAsDl4j(EfficientNet.builder().resolution(64).includeTop(false).pooling(Pooling.MAX), 2, 3, 64, 64);
        assertSameAsDl4j(EfficientNet.builder().resolution(64).includeTop(false).pooling(Pooling.NONE), 1, 3, 64,
                64);
        assertSameAsDl4j(EfficientNet.builder().variant(Variant.B2).resolution(65).numClasses(7), 2, 3, 65, 65);
    }

    @Test
    void multiScaleFeaturesComeOutInTheNetworksOrder() {
        EfficientNet.Builder b = EfficientNet.builder().resolution(64).multiScaleFeatures(true);
        assertSameAsDl4j(b, 2, 3, 64, 64);
        ComputationGraph net = b.build().init();
        try (OneDnnInference engine = OneDnnInference.of(net)) {
            INDArray[] features = engine.outputs(Nd4j.rand(DataType.FLOAT, 1, 3, 64, 64));
            assertEquals(GraphAssembler.FEATURE_STRIDES.length, features.length);
            assertEquals(32, features[0].size(2)); // stride 2
            assertEquals(2, features[4].size(2)); // stride 32
            assertThrows(IllegalStateException.class, () -> engine.output(Nd4j.rand(DataType.FLOAT, 1, 3, 64, 64)));
        }
    }

    @Test
    void changingShapesViewsAndDoubleInputGiveTheSameAnswers() {
        ComputationGraph net = EfficientNet.builder().resolution(64).numClasses(10).build().init();
        BatchNormTestSupport.randomizeBatchNorms(net, 5);
        INDArray big = Nd4j.randn(DataType.FLOAT, 6, 3, 64, 64);
        try (OneDnnInference engine = OneDnnInference.of(net)) {
            for (int n : new int[] {2, 5, 1, 6, 2, 3}) { // more shapes than plans are kept
                INDArray x = big.get(NDArrayIndex.interval(0, n)); // a view
                INDArray before = x.dup();
                INDArray y = engine.output(x);
                assertEquals(before, x, "input unchanged");
                assertTrue(relativeError(y, net.output(false, x.dup())[0]) < 1e-4, "batch " + n);
            }
            INDArray x = big.get(NDArrayIndex.interval(0, 2));
            INDArray y = engine.output(x.castTo(DataType.DOUBLE));
            assertEquals(DataType.FLOAT, y.dataType());
            assertTrue(relativeError(y, net.output(false, x.dup())[0]) < 1e-4);
            // a different resolution (fully convolutional up to the global pooling)
            INDArray larger = Nd4j.randn(DataType.FLOAT, 2, 3, 96, 96);
            assertTrue(relativeError(engine.output(larger), net.output(false, larger)[0]) < 1e-4);
        }
    }

    @Test
    void runsATransferLearnedGraphWithFrozenLayersAndANewHead() {
        ComputationGraph base = EfficientNet.builder().resolution(64).build().init();
        BatchNormTestSupport.randomizeBatchNorms(base, 9);
        ComputationGraph tl = new TransferLearning.GraphBuilder(base)
                .fineTuneConfiguration(new FineTuneConfiguration.Builder().updater(new Adam(1e-3)).build())
                .setFeatureExtractor("block6a_project_bn")
                .removeVertexKeepConnections("predictions")
                .addLayer("fc", new DenseLayer.Builder().nIn(1280).nOut(32).activation(Activation.RELU).build(),
                        "top_dropout")
                .addLayer("predictions", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(32).nOut(4)
                        .activation(Activation.SOFTMAX).build(), "fc")
                .setOutputs("predictions").build();
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, 3, 64, 64);
        INDArray expected = tl.output(false, x)[0];
        try (OneDnnInference engine = OneDnnInference.of(tl)) {
            INDArray y = engine.output(x);
            assertArrayEquals(new long[] {2, 4}, y.shape());
            assertTrue(relativeError(y, expected) < 1e-4, "relative error " + relativeError(y, expected));
        }
    }

    @Test
    void refusesWhatItCannotRunNamingTheVertex() {
        ComputationGraph pooled = new ComputationGraph(new NeuralNetConfiguration.Builder().graphBuilder()
                .addInputs("in").setInputTypes(InputType.convolutional(8, 8, 3))
                .addLayer("conv", new org.deeplearning4j.nn.conf.layers.ConvolutionLayer.Builder(3, 3).nOut(4).build(),
                        "in")
                .addLayer("maxpool", new SubsamplingLayer.Builder(2, 2).build(), "conv")
                .addLayer("out", new OutputLayer.Builder().nOut(2).build(), "maxpool")
                .setOutputs("out").build());
        pooled.init();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OneDnnInference.of(pooled));
        assertTrue(e.getMessage().contains("'maxpool'") && e.getMessage().contains("SubsamplingLayer"),
                e.getMessage());

        ComputationGraph rnn = new ComputationGraph(new NeuralNetConfiguration.Builder().graphBuilder()
                .addInputs("in").setInputTypes(InputType.recurrent(3))
                .addLayer("lstm", new LSTM.Builder().nOut(4).build(), "in")
                .addLayer("out", new org.deeplearning4j.nn.conf.layers.RnnOutputLayer.Builder().nOut(2).build(), "lstm")
                .setOutputs("out").build());
        rnn.init();
        e = assertThrows(IllegalArgumentException.class, () -> OneDnnInference.of(rnn));
        assertTrue(e.getMessage().contains("'lstm'"), e.getMessage());
    }

    @Test
    void badInputAndClosedEngineFailClearly() {
        ComputationGraph net = EfficientNet.builder().resolution(64).build().init();
        OneDnnInference engine = OneDnnInference.of(net);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> engine.output(Nd4j.rand(DataType.FLOAT, 1, 1, 64, 64)));
        assertTrue(e.getMessage().contains("[N, 3, H, W]") && e.getMessage().contains("[1, 1, 64, 64]"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> engine.output(Nd4j.rand(DataType.FLOAT, 2, 3 * 64 * 64)));
        INDArray ok = engine.output(Nd4j.rand(DataType.FLOAT, 1, 3, 64, 64)); // still usable after errors
        assertArrayEquals(new long[] {1, 1000}, ok.shape());
        engine.close();
        engine.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> engine.output(Nd4j.rand(DataType.FLOAT, 1, 3, 64, 64)));
    }
}
