package io.efficientnet.core;

import io.efficientnet.core.layers.ChannelScaleVertex;
import io.efficientnet.core.layers.DropPath;
import io.efficientnet.core.layers.ReferenceWeightInit;
import io.efficientnet.core.layers.StableSwish;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import static org.junit.jupiter.api.Assertions.*;

/** Gradient checks and statistics of the custom pieces, alone and inside a tiny EfficientNet. */
class CustomLayersTest {

    private DataType previous;

    @BeforeEach
    void doublePrecision() {
        previous = Nd4j.dataType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
    }

    @AfterEach
    void restorePrecision() {
        Nd4j.setDefaultDataTypes(previous, previous);
    }

    private static GradientCheckUtil.GraphConfig check(ComputationGraph net, INDArray x, INDArray y) {
        return new GradientCheckUtil.GraphConfig().net(net).inputs(new INDArray[] {x}).labels(new INDArray[] {y})
                .epsilon(1e-6).maxRelError(1e-3).minAbsoluteError(1e-8)
                .callEachIter(g -> Nd4j.getRandom().setSeed(4242));
    }

    @Test
    void squeezeExciteAndDropPathPassGradientCheck() {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).updater(new NoOp())
                .dataType(DataType.DOUBLE).convolutionMode(ConvolutionMode.Same).activation(Activation.IDENTITY)
                .graphBuilder().addInputs("in").setInputTypes(InputType.convolutional(5, 5, 3))
                .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.SWISH)
                        .weightInit(new ReferenceWeightInit(ReferenceWeightInit.Kind.CONV)).build(), "in")
                .addLayer("squeeze", new GlobalPoolingLayer.Builder(PoolingType.AVG).collapseDimensions(false).build(),
                        "conv")
                .addLayer("reduce", new ConvolutionLayer.Builder(1, 1).nOut(2).activation(Activation.SWISH).build(),
                        "squeeze")
                .addLayer("expand", new ConvolutionLayer.Builder(1, 1).nOut(4).activation(Activation.SIGMOID).build(),
                        "reduce")
                .addVertex("excite", new ChannelScaleVertex(), "conv", "expand")
                .addLayer("drop", new DropoutLayer.Builder().dropOut(new DropPath(0.4)).build(), "excite")
                .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "drop", "conv")
                .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "add")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "pool")
                .setOutputs("out").build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        Nd4j.getRandom().setSeed(1);
        INDArray x = Nd4j.randn(DataType.DOUBLE, 4, 3, 5, 5);
        INDArray y = Nd4j.eye(3).getRows(0, 1, 2, 0);
        assertTrue(GradientCheckUtil.checkGradients(check(net, x, y)));
    }

    @Test
    void tinyEfficientNetPassesGradientCheck() {
        ComputationGraph net = EfficientNet.builder().widthMultiplier(0.25).depthMultiplier(0.5).resolution(32)
                .numClasses(3).dropoutRate(0.2).dropPathRate(0.5).updater(new NoOp()).dataType(DataType.DOUBLE)
                .build().init();
        assertTrue(net.getConfiguration().getVertices().containsKey("block4b_drop"), "needs a block with drop path");
        Nd4j.getRandom().setSeed(2);
        INDArray x = Nd4j.randn(DataType.DOUBLE, 3, 3, 32, 32);
        INDArray y = Nd4j.eye(3);
        // A full check of every parameter takes far too long; the gradients of these parameters flow back through
        // every later layer (SE gates, drop path, skip adds, head), so checking them checks the whole backward pass.
        java.util.Set<String> checked = java.util.Set.of("stem_activation_beta", "block1a_se_reduce_b",
                "block4b_se_reduce_b", "block4b_project_bn_gamma", "block5a_se_reduce_b", "predictions_b");
        java.util.Set<String> excluded = new java.util.HashSet<>(net.paramTable().keySet());
        assertTrue(excluded.containsAll(checked), "checked parameters exist");
        excluded.removeAll(checked);
        assertTrue(GradientCheckUtil.checkGradients(check(net, x, y).excludeParams(excluded)));
    }

    @Test
    void dropPathDropsWholeSamplesAtTheExpectedRateAndScalesKeptOnes() {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        Nd4j.getRandom().setSeed(7);
        DropPath dp = new DropPath(0.3);
        int n = 20000;
        INDArray x = Nd4j.ones(DataType.FLOAT, n, 2, 3, 3);
        INDArray out = dp.applyDropout(x, x.ulike(), 0, 0,
                org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces());
        int dropped = 0;
        INDArray flat = out.reshape(n, 18);
        INDArray mins = flat.min(1);
        INDArray maxs = flat.max(1);
        for (int i = 0; i < n; i++) {
            double min = mins.getDouble(i);
            double max = maxs.getDouble(i);
            assertEquals(min, max, 1e-6, "sample " + i + " must be dropped or kept as a whole");
            if (max == 0) {
                dropped++;
            } else {
                assertEquals(1 / 0.7, max, 1e-5, "kept samples are scaled by 1/keep");
            }
        }
        double rate = dropped / (double) n;
        assertEquals(0.3, rate, 0.015, "observed drop rate");
        assertEquals(1.0, out.meanNumber().doubleValue(), 0.02, "expectation is preserved");

        INDArray grad = Nd4j.ones(DataType.FLOAT, n, 2, 3, 3);
        INDArray back = dp.backprop(grad, grad.ulike(), 0, 0);
        assertEquals(out, back, "gradient is masked and scaled like the activations");
    }

    /**
     * At inference the network with drop path and dropout at rate 0.9 computes exactly what the same parameters give
     * without them: both layers pass their input through, so the same operations run on the same values, bit for bit.
     */
    @Test
    void dropPathIsIdentityAtInference() {
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
        ComputationGraph net = EfficientNet.builder().phi(-1).resolution(64).dropPathRate(0.9).dropoutRate(0.9)
                .build().init();
        ComputationGraph without = EfficientNet.builder().phi(-1).resolution(64).dropPathRate(0).dropoutRate(0)
                .build().init();
        without.setParams(net.params());
        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, 3, 64, 64);
        assertArrayEquals(without.outputSingle(false, x.dup()).reshape(-1).toFloatVector(),
                net.outputSingle(false, x.dup()).reshape(-1).toFloatVector());
        var acts = net.feedForward(x, false);
        INDArray drop = acts.get("block2b_drop");
        assertEquals(acts.get("block2b_project_bn"), drop);
        Nd4j.getRandom().setSeed(4);
        INDArray batch = Nd4j.randn(DataType.FLOAT, 8, 3, 64, 64);
        INDArray dropped = net.feedForward(batch, true).get("block2b_drop").reshape(8, -1);
        int zeroSamples = 0;
        for (int i = 0; i < 8; i++) {
            if (dropped.getRow(i).amaxNumber().doubleValue() == 0) {
                zeroSamples++;
            }
        }
        assertTrue(zeroSamples > 0, "rate 0.9 must drop whole samples while training");
    }

    @Test
    void referenceInitHasTheReferenceScale() {
        ReferenceWeightInit conv = new ReferenceWeightInit(ReferenceWeightInit.Kind.CONV);
        INDArray w = Nd4j.create(DataType.DOUBLE, 64 * 32 * 3 * 3);
        conv.init(0, 0, new long[] {64, 32, 3, 3}, 'c', w);
        assertEquals(Math.sqrt(2.0 / (3 * 3 * 64)), w.stdNumber().doubleValue(), 0.02 * Math.sqrt(2.0 / 576));
        ReferenceWeightInit dw = new ReferenceWeightInit(ReferenceWeightInit.Kind.DEPTHWISE);
        assertEquals(25, dw.fanOut(new long[] {5, 5, 96, 1}));
        ReferenceWeightInit dense = new ReferenceWeightInit(ReferenceWeightInit.Kind.DENSE);
        INDArray d = Nd4j.create(DataType.DOUBLE, 1280 * 100);
        dense.init(0, 0, new long[] {1280, 100}, 'c', d);
        assertEquals(0.1, d.amaxNumber().doubleValue(), 1e-3);
        assertEquals(0.1 / Math.sqrt(3), d.stdNumber().doubleValue(), 2e-3);
    }

    @Test
    void swishDerivativeIsFiniteAndExactInFloat32() {
        float[] xs = {-100f, -50f, -5f, -1f, 0f, 0.5f, 3f, 10f, 44f, 45f, 50f, 100f};
        INDArray x = Nd4j.createFromArray(xs);
        INDArray eps = Nd4j.createFromArray(new float[xs.length]).addi(2f);
        INDArray d = new StableSwish().backprop(x.dup(), eps).getFirst();
        INDArray y = new StableSwish().getActivation(x.dup(), true);
        for (int i = 0; i < xs.length; i++) {
            double s = 1 / (1 + Math.exp(-xs[i]));
            assertEquals(xs[i] * s, y.getDouble(i), 1e-5 * Math.max(1, Math.abs(xs[i])), "swish(" + xs[i] + ")");
            double expected = 2 * s * (1 + xs[i] * (1 - s));
            assertTrue(Double.isFinite(d.getDouble(i)), "derivative at " + xs[i] + " is " + d.getDouble(i));
            assertEquals(expected, d.getDouble(i), 1e-5, "derivative at " + xs[i]);
        }
        // The reason this class exists: DL4J's own swish derivative is NaN above ~44 in float32.
        INDArray dl4j = Activation.SWISH.getActivationFunction().backprop(Nd4j.createFromArray(50f),
                Nd4j.createFromArray(1f)).getFirst();
        assertTrue(Double.isNaN(dl4j.getDouble(0)), "if DL4J fixed its swish, StableSwish can go: " + dl4j);
    }
}
