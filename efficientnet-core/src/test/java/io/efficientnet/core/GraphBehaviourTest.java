package io.efficientnet.core;

import io.efficientnet.core.model.GraphAssembler;
import io.efficientnet.core.model.Padding;
import io.efficientnet.core.model.Pooling;
import io.efficientnet.core.model.Variant;
import io.efficientnet.core.layers.FastBatchNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.io.File;
import java.util.List;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.nd4j.linalg.learning.regularization.Regularization;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Shapes, names, padding and serialization of built graphs. */
class GraphBehaviourTest {

    @Test
    void b0ForwardAtNativeResolutionGivesSoftmaxOverClasses() {
        ComputationGraph net = EfficientNet.builder().build().init();
        assertEquals(5288548 + 42016, net.numParams());
        Nd4j.getRandom().setSeed(1);
        INDArray out = net.outputSingle(Nd4j.randn(1, 3, 224, 224));
        assertArrayEquals(new long[] {1, 1000}, out.shape());
        assertEquals(1.0, out.sumNumber().doubleValue(), 1e-4);
    }

    @ParameterizedTest
    @EnumSource(value = Variant.class, names = {"B1", "B2", "B3", "B4", "B5", "B6", "B7"})
    void largerVariantsRunAtReducedResolution(Variant v) {
        ComputationGraph net = EfficientNet.builder().variant(v).resolution(64).numClasses(5).build().init();
        Nd4j.getRandom().setSeed(2);
        INDArray out = net.outputSingle(Nd4j.randn(2, 3, 64, 64));
        assertArrayEquals(new long[] {2, 5}, out.shape());
    }

    @Test
    void kerasLayerNamesArePresent() {
        ComputationGraph net = EfficientNet.builder().resolution(64).fusedSwish(false).build().init();
        for (String name : new String[] {"stem_conv", "stem_bn", "stem_activation", "block1a_dwconv", "block1a_bn",
                "block1a_se_squeeze", "block1a_se_reduce", "block1a_se_expand", "block1a_se_excite",
                "block1a_project_conv", "block1a_project_bn", "block2a_expand_conv", "block2a_expand_bn",
                "block2a_expand_activation", "block2a_se_reduce", "block2a_project_bn", "block2b_drop", "block2b_add",
                "block7a_project_bn", "top_conv", "top_bn", "top_activation", "avg_pool", "top_dropout",
                "predictions"}) {
            assertNotNull(net.getConfiguration().getVertices().get(name), "missing vertex " + name);
        }
        assertNull(net.getConfiguration().getVertices().get("block1a_expand_conv"), "block1a has no expansion");
        assertNull(net.getConfiguration().getVertices().get("block1a_add"), "block1a has no skip");
        assertArrayEquals(new long[] {32, 3, 3, 3}, net.getLayer("stem_conv").getParam("W").shape());
        assertArrayEquals(new long[] {3, 3, 32, 1}, net.getLayer("block1a_dwconv").getParam("W").shape());
    }

    /**
     * Fused (default): each batch norm followed by swish is one layer under the activation's name; the projection
     * batch norms (no swish) keep their own; same parameters, in the same order, as the Keras layout.
     */
    @Test
    void fusedSwishReplacesEachBatchNormAndSwishPairByOneLayerNamedLikeTheActivation() {
        ComputationGraph fused = EfficientNet.builder().resolution(64).build().init();
        ComputationGraph keras = EfficientNet.builder().resolution(64).fusedSwish(false).build().init();
        var vertices = fused.getConfiguration().getVertices();
        int pairs = 0;
        for (String name : keras.getConfiguration().getVertices().keySet()) {
            if (name.endsWith("_activation")) {
                String bn = name.substring(0, name.length() - "_activation".length()) + "_bn";
                assertNull(vertices.get(bn), bn + " is fused into " + name);
                FastBatchNormalization conf = assertInstanceOf(FastBatchNormalization.class,
                        fused.getLayer(name).conf().getLayer(), name);
                assertTrue(conf.isSwish(), name);
                assertEquals(bn, GraphAssembler.kerasWeightName(conf));
                pairs++;
            }
        }
        assertEquals(33, pairs, "B0: stem, top, 16 depthwise and 15 expansion batch norms are followed by swish");
        FastBatchNormalization project = assertInstanceOf(FastBatchNormalization.class,
                fused.getLayer("block1a_project_bn").conf().getLayer());
        assertFalse(project.isSwish());
        assertEquals("block1a_project_bn", GraphAssembler.kerasWeightName(project));
        assertEquals(keras.getConfiguration().getVertices().size() - pairs, vertices.size());
        assertEquals(keras.numParams(), fused.numParams());
        List<String> kerasOrder = new java.util.ArrayList<>(keras.paramTable().keySet());
        kerasOrder.replaceAll(k -> k.replaceFirst("_bn_(gamma|beta|mean|log10stdev)$", "_activation_$1")
                .replace("project_activation_", "project_bn_"));
        assertEquals(kerasOrder, new java.util.ArrayList<>(fused.paramTable().keySet()), "same parameters, same order");
        assertNotNull(EfficientNet.builder().resolution(64).fastBatchNorm(false).build().conf().getVertices()
                .get("stem_bn"), "DL4J's batch norm is never fused");
    }

    @Test
    void headlessAndNonSquareInput() {
        ComputationGraph avg = EfficientNet.builder().includeTop(false).inputShape(3, 96, 64).build().init();
        Nd4j.getRandom().setSeed(3);
        assertArrayEquals(new long[] {2, 1280}, avg.outputSingle(Nd4j.randn(2, 3, 96, 64)).shape());
        ComputationGraph none = EfficientNet.builder().includeTop(false).pooling(Pooling.NONE)
                .inputShape(3, 96, 64).build().init();
        assertArrayEquals(new long[] {1, 1280, 3, 2}, none.outputSingle(Nd4j.randn(1, 3, 96, 64)).shape());
        ComputationGraph max = EfficientNet.builder().includeTop(false).pooling(Pooling.MAX).resolution(64)
                .build().init();
        assertEquals("max_pool", max.getConfiguration().getNetworkOutputs().get(0));
    }

    @Test
    void multiScaleFeaturesHaveStrides2To32() {
        ComputationGraph net = EfficientNet.builder().multiScaleFeatures(true).build().init();
        Nd4j.getRandom().setSeed(4);
        INDArray[] out = net.output(Nd4j.randn(1, 3, 224, 224));
        long[][] expected = {{1, 16, 112, 112}, {1, 24, 56, 56}, {1, 40, 28, 28}, {1, 112, 14, 14}, {1, 320, 7, 7}};
        assertEquals(expected.length, out.length);
        for (int i = 0; i < expected.length; i++) {
            assertArrayEquals(expected[i], out[i].shape(), "feature " + i);
        }
    }

    /**
     * TF "SAME" pads the extra pixel at the bottom/right: for even input 32, stride 2, k 3 the total padding is 1, all
     * at the bottom, so output (i,j) reads input (2i,2j); for odd input 33 it is 1 on each side, so (2i−1,2j−1).
     * Symmetric padding pads 1 on each side for both.
     */
    @Test
    void samePaddingIsAsymmetricLikeTensorFlow() {
        assertStemReads(Padding.SAME, 32, 0);
        assertStemReads(Padding.SAME, 33, -1);
        assertStemReads(Padding.SYMMETRIC, 32, -1);
        assertStemReads(Padding.SYMMETRIC, 33, -1);
    }

    private static void assertStemReads(Padding padding, int size, int offset) {
        ComputationGraph net = EfficientNet.builder().padding(padding).inputShape(3, size, size).build().init();
        INDArray w = net.getLayer("stem_conv").getParam("W");
        w.assign(0);
        w.putScalar(new long[] {0, 0, 0, 0}, 1.0); // output channel 0 copies input channel 0 at kernel (0,0)
        Nd4j.getRandom().setSeed(size);
        INDArray x = Nd4j.rand(1, 3, size, size).addi(0.5);
        Map<String, INDArray> acts = net.feedForward(x, false);
        INDArray y = acts.get("stem_conv").get(NDArrayIndex.point(0), NDArrayIndex.point(0));
        int out = (size + 1) / 2;
        assertArrayEquals(new long[] {out, out}, y.shape());
        for (int i = 0; i < out; i++) {
            for (int j = 0; j < out; j++) {
                int r = 2 * i + offset;
                int c = 2 * j + offset;
                double expected = r < 0 || c < 0 || r >= size || c >= size ? 0.0 : x.getDouble(0, 0, r, c);
                assertEquals(expected, y.getDouble(i, j), 1e-6, padding + " size " + size + " at " + i + "," + j);
            }
        }
    }

    @Test
    void serializationRoundTripKeepsOutputs(@TempDir File dir) throws Exception {
        EfficientNet model = EfficientNet.builder().phi(-4).resolution(64).numClasses(7).build();
        ComputationGraph net = model.init();
        Nd4j.getRandom().setSeed(6);
        INDArray x = Nd4j.randn(2, 3, 64, 64);
        INDArray expected = net.outputSingle(x);

        String json = net.getConfiguration().toJson();
        assertEquals(net.getConfiguration(),
                org.deeplearning4j.nn.conf.ComputationGraphConfiguration.fromJson(json));

        File file = new File(dir, "model.zip");
        ModelSerializer.writeModel(net, file, true);
        ComputationGraph restored = ModelSerializer.restoreComputationGraph(file, true);
        assertEquals(net.getConfiguration(), restored.getConfiguration());
        assertEquals(expected, restored.outputSingle(x));
        // Training after restore works (custom vertex + drop path are live).
        org.nd4j.linalg.dataset.DataSet ds = new org.nd4j.linalg.dataset.DataSet(x,
                Nd4j.eye(7).getRows(0, 3));
        restored.fit(ds);
        assertTrue(Double.isFinite(restored.score()));
    }

    @Test
    void weightDecayReachesKernelsButNotBiasesOrBatchNorm() {
        ComputationGraph net = EfficientNet.builder().phi(-3).resolution(32).numClasses(3).weightDecay(1e-5)
                .build().init();
        for (String kernel : List.of("stem_conv", "block1a_dwconv", "block2a_expand_conv", "block2a_se_reduce",
                "top_conv", "predictions")) {
            List<Regularization> regs = regularization(net, kernel, "W");
            assertEquals(1, regs.size(), kernel);
            L2Regularization l2 = assertInstanceOf(L2Regularization.class, regs.get(0), kernel);
            assertEquals(1e-5, l2.getL2().valueAt(0, 0), 0, kernel);
        }
        for (String[] param : new String[][] {{"block2a_se_reduce", "b"}, {"predictions", "b"}, {"stem_activation", "gamma"},
                {"stem_activation", "beta"}, {"top_activation", "gamma"}, {"block2a_project_bn", "gamma"}}) {
            List<Regularization> regs = regularization(net, param[0], param[1]);
            assertTrue(regs == null || regs.isEmpty(), param[0] + "/" + param[1] + " must not be decayed: " + regs);
        }
        ComputationGraph plain = EfficientNet.builder().phi(-3).resolution(32).numClasses(3).build().init();
        List<Regularization> none = regularization(plain, "stem_conv", "W");
        assertTrue(none == null || none.isEmpty(), "no decay unless asked for");
    }

    private static List<Regularization> regularization(ComputationGraph net, String layer, String param) {
        return ((BaseLayer) net.getLayer(layer).conf().getLayer()).getRegularizationByParam(param);
    }
}
