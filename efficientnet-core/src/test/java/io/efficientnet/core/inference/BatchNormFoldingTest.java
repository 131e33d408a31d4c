package io.efficientnet.core.inference;

import io.efficientnet.core.LayerChoices;

import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.model.Pooling;
import io.efficientnet.core.layers.FastBatchNormalization;
import io.efficientnet.core.layers.StableSwish;
import io.efficientnet.core.weights.ImageNetPreprocessing;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.preprocessor.NormalizerStandardize;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import static io.efficientnet.core.inference.BatchNormTestSupport.batchNormCount;
import static io.efficientnet.core.inference.BatchNormTestSupport.randomizeBatchNorms;
import static io.efficientnet.core.inference.BatchNormTestSupport.relativeError;
import static org.junit.jupiter.api.Assertions.*;

class BatchNormFoldingTest {

    /** Outputs and every shared vertex that is neither a convolution nor a batch norm agree within 1e-4 relative. */
    static void assertSameFunction(ComputationGraph original, ComputationGraph folded, INDArray x) {
        INDArray[] expected = original.output(false, x.dup());
        INDArray[] actual = folded.output(false, x.dup());
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            double err = relativeError(actual[i], expected[i]);
            assertTrue(err < 1e-4, "output " + i + " differs by " + err + " (relative)");
        }
        Map<String, INDArray> a = original.feedForward(x.dup(), false);
        Map<String, INDArray> b = folded.feedForward(x.dup(), false);
        int compared = 0;
        for (String name : b.keySet()) {
            var v = folded.getConfiguration().getVertices().get(name);
            boolean convOrBn = v instanceof LayerVertex lv && (lv.getLayerConf().getLayer() instanceof ConvolutionLayer
                    || lv.getLayerConf().getLayer() instanceof BatchNormalization);
            if (convOrBn || !a.containsKey(name) || name.equals("input")) {
                continue;
            }
            double err = relativeError(b.get(name), a.get(name));
            assertTrue(err < 1e-4, name + " differs by " + err + " (relative)");
            compared++;
        }
        assertTrue(compared > 5, "compared " + compared + " intermediate activations");
    }

    /**
     * Keras layout: every batch norm is removed. Fused layout: the batch norm + swish layers become swish activation
     * layers of the same name reading the folded convolution; only the projection batch norms disappear.
     */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void foldedEfficientNetWithTopComputesTheSameFunction(boolean fusedSwish) {
        ComputationGraph net = LayerChoices.fusedSwish(EfficientNet.builder().phi(-3).resolution(32).numClasses(10),
                fusedSwish).build().init();
        randomizeBatchNorms(net, 11);
        int bns = batchNormCount(net);
        assertTrue(bns > 10);
        BatchNormFolding.Result r = BatchNormFolding.fold(net);
        ComputationGraph folded = r.graph();

        assertEquals(bns, r.folds().size(), "every batch norm of EfficientNet follows a convolution");
        assertEquals(0, batchNormCount(folded));
        long bnParams = 0;
        int removed = 0;
        for (Layer l : net.getLayers()) {
            if (l.conf().getLayer() instanceof BatchNormalization bn) {
                bnParams += l.numParams();
                removed += bn instanceof FastBatchNormalization f && f.isSwish() ? 0 : 1;
            }
        }
        long projections = net.getConfiguration().getVertices().keySet().stream()
                .filter(n -> n.endsWith("_project_bn")).count();
        assertEquals(fusedSwish, countFused(net) > 0);
        assertEquals(fusedSwish ? projections : bns, removed, "removed batch norms");
        assertEquals(bnParams, r.removedBatchNormParams());
        assertEquals(net.numParams() - bnParams + r.addedBiasParams(), folded.numParams());
        assertTrue(folded.numParams() < net.numParams(), "parameter count drops");
        assertEquals(net.getLayers().length - removed, folded.getLayers().length, "layer count shrinks by the folds");
        assertEquals(net.getConfiguration().getVertices().size() - removed,
                folded.getConfiguration().getVertices().size());
        Set<String> kept = new HashSet<>(net.getConfiguration().getVertices().keySet());
        r.folds().forEach(f -> {
            if (!(net.getLayer(f.batchNorm()).conf().getLayer() instanceof FastBatchNormalization b && b.isSwish())) {
                kept.remove(f.batchNorm());
            }
        });
        assertEquals(kept, folded.getConfiguration().getVertices().keySet(), "all other names are kept");
        assertTrue(folded.getLayer("stem_conv").conf().getLayer() instanceof ConvolutionLayer c && c.hasBias());
        long stemFilters = ((ConvolutionLayer) net.getLayer("stem_conv").conf().getLayer()).getNOut();
        assertEquals(new BatchNormFolding.Fold("stem_conv", fusedSwish ? "stem_activation" : "stem_bn",
                4 * stemFilters, stemFilters), r.folds().get(0));
        assertEquals(java.util.List.of("block1a_activation"),
                folded.getConfiguration().getVertexInputs().get("block1a_se_squeeze"));
        assertEquals(java.util.List.of("block1a_dwconv"),
                folded.getConfiguration().getVertexInputs().get("block1a_activation"), "consumers rewired");
        assertInstanceOf(ActivationLayer.class, folded.getLayer("block1a_activation").conf().getLayer());
        assertInstanceOf(StableSwish.class, ((ActivationLayer) folded.getLayer("block1a_activation").conf()
                .getLayer()).getActivationFn());

        Nd4j.getRandom().setSeed(14);
        assertSameFunction(net, folded, Nd4j.randn(DataType.FLOAT, 3, 3, 32, 32));
        assertEquals(net.numParams(), EfficientNet.builder().phi(-3).resolution(32).numClasses(10).build().init()
                .numParams(), "the original network is left as it was");
    }

    private static int countFused(ComputationGraph net) {
        int n = 0;
        for (Layer l : net.getLayers()) {
            n += l.conf().getLayer() instanceof FastBatchNormalization f && f.isSwish() ? 1 : 0;
        }
        return n;
    }

    @Test
    void foldedHeadlessEfficientNetComputesTheSameFunctionAndSurvivesSerialization(@TempDir Path dir)
            throws Exception {
        ComputationGraph net = EfficientNet.builder().phi(-3).resolution(64).includeTop(false).pooling(Pooling.AVG)
                .build().init();
        randomizeBatchNorms(net, 12);
        ComputationGraph folded = BatchNormFolding.fold(net).graph();
        Nd4j.getRandom().setSeed(15);
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, 3, 64, 64);
        assertSameFunction(net, folded, x);

        Path zip = dir.resolve("folded.zip");
        ModelSerializer.writeModel(folded, zip.toFile(), false);
        ComputationGraph restored = ModelSerializer.restoreComputationGraph(zip.toFile(), false);
        assertEquals(folded.outputSingle(false, x.dup()), restored.outputSingle(false, x.dup()));
    }

    @Test
    void foldingRulesOnAHandBuiltGraph() {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.FLOAT)
                .convolutionMode(ConvolutionMode.Same).activation(Activation.IDENTITY).graphBuilder()
                .addInputs("in").setInputTypes(InputType.convolutional(9, 9, 3))
                // conv with its own bias, BN with an activation (which DL4J does not apply): folded
                .addLayer("c1", new ConvolutionLayer.Builder(3, 3).nOut(4).hasBias(true).build(), "in")
                .addLayer("bn1", new BatchNormalization.Builder().eps(1e-3).activation(Activation.RELU).build(), "c1")
                // depthwise with multiplier 2: 8 output channels in (input channel, multiplier) order
                .addLayer("dw", new DepthwiseConvolution2D.Builder(3, 3).depthMultiplier(2).hasBias(false)
                        .nOut(8).build(), "bn1")
                .addLayer("bn2", new BatchNormalization.Builder().eps(1e-5).build(), "dw")
                // conv with a non-identity activation: not folded
                .addLayer("c3", new ConvolutionLayer.Builder(1, 1).nOut(8).activation(Activation.TANH).build(), "bn2")
                .addLayer("bn3", new BatchNormalization.Builder().build(), "c3")
                // conv read by two vertices: not folded
                .addLayer("c4", new ConvolutionLayer.Builder(1, 1).nOut(8).hasBias(false).build(), "bn3")
                .addLayer("bn4", new BatchNormalization.Builder().build(), "c4")
                .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "bn4", "c4")
                // a batch norm that is a network output: folded, the output is now the conv
                .addLayer("c5", new ConvolutionLayer.Builder(1, 1).nOut(5).hasBias(false).build(), "add")
                .addLayer("bn5", new BatchNormalization.Builder().build(), "c5")
                .setOutputs("bn5").build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        randomizeBatchNorms(net, 13);
        net.getLayer("c1").setParam("b", Nd4j.randn(DataType.FLOAT, 1, 4));

        BatchNormFolding.Result r = BatchNormFolding.fold(net);
        assertEquals(java.util.List.of("bn1", "bn2", "bn5"),
                r.folds().stream().map(BatchNormFolding.Fold::batchNorm).toList());
        assertEquals(Map.of("bn5", "c5"), r.renamedOutputs());
        assertEquals(java.util.List.of("c5"), r.graph().getConfiguration().getNetworkOutputs());
        assertEquals(0, r.folds().get(0).addedBiasParams(), "c1 already had a bias");
        assertEquals(8, r.folds().get(1).addedBiasParams());
        // DL4J's batch norm ignores its configured activation (RELU here), so the folded conv stays linear
        assertEquals(Activation.IDENTITY.getActivationFunction(),
                ((ConvolutionLayer) r.graph().getLayer("c1").conf().getLayer()).getActivationFn());
        assertNotNull(r.graph().getLayer("bn3"));
        assertNotNull(r.graph().getLayer("bn4"));

        Nd4j.getRandom().setSeed(16);
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, 3, 9, 9);
        INDArray[] expected = net.output(false, x.dup());
        INDArray[] actual = r.graph().output(false, x.dup());
        assertTrue(relativeError(actual[0], expected[0]) < 1e-4, "output");
    }

    /**
     * Why the ImageNet normalizer stays outside the network: folding {@code (x − m)/s} into the stem is exact where
     * the kernel sees only pixels, but the stem's zero padding is added after normalisation, i.e. it pads with the
     * channel mean in pixel units; a folded stem would pad with pixel value 0 instead.
     */
    @Test
    void normalizerCannotBeFoldedIntoAZeroPaddedStemExactly() {
        int res = 16;
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(5).dataType(DataType.FLOAT)
                .convolutionMode(ConvolutionMode.Same).activation(Activation.IDENTITY).graphBuilder()
                .addInputs("in").setInputTypes(InputType.convolutional(res, res, 3))
                .addLayer("stem", new ConvolutionLayer.Builder(3, 3).stride(2, 2).nOut(4).hasBias(true).build(), "in")
                .setOutputs("stem").build();
        ComputationGraph stem = new ComputationGraph(conf);
        stem.init();
        ComputationGraph foldedStem = stem.clone();
        // fold: W' = W / s (per input channel), b' = b − Σ W·m/s
        NormalizerStandardize norm = ImageNetPreprocessing.normalizer();
        INDArray m = norm.getMean().reshape(3);
        INDArray s = norm.getStd().reshape(3);
        INDArray w = stem.getLayer("stem").getParam("W").dup(); // [out, in, kH, kW]
        INDArray wFolded = w.dup();
        for (int c = 0; c < 3; c++) {
            wFolded.get(NDArrayIndex.all(), NDArrayIndex.point(c)).divi(s.getDouble(c));
        }
        INDArray shift = wFolded.mul(m.reshape(1, 3, 1, 1).broadcast(w.shape())).sum(1, 2, 3).reshape(1, 4);
        foldedStem.getLayer("stem").setParam("W", wFolded);
        foldedStem.getLayer("stem").setParam("b", stem.getLayer("stem").getParam("b").sub(shift));

        Nd4j.getRandom().setSeed(17);
        INDArray pixels = Nd4j.rand(DataType.FLOAT, 1, 3, res, res).muli(255);
        INDArray normalised = pixels.dup();
        norm.transform(normalised);
        INDArray expected = stem.outputSingle(false, normalised);
        INDArray actual = foldedStem.outputSingle(false, pixels.dup());
        // SAME padding for 16 px, stride 2, kernel 3: one row/column of zeros at the bottom/right only
        INDArray expIn = expected.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, res / 2 - 1),
                NDArrayIndex.interval(0, res / 2 - 1));
        INDArray actIn = actual.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, res / 2 - 1),
                NDArrayIndex.interval(0, res / 2 - 1));
        assertTrue(relativeError(actIn, expIn) < 1e-4, "exact away from the padding");
        INDArray expBorder = expected.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.point(res / 2 - 1),
                NDArrayIndex.all());
        INDArray actBorder = actual.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.point(res / 2 - 1),
                NDArrayIndex.all());
        assertTrue(relativeError(actBorder, expBorder) > 1e-2, "not exact where the kernel overlaps the padding");
    }
}
