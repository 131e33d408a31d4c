package io.efficientnet.core.onednn;

import io.efficientnet.core.LayerChoices;

import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.Float64Checks;
import io.efficientnet.core.model.Pooling;
import io.efficientnet.core.model.Variant;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.Arrays;

import static io.efficientnet.core.Float64Checks.assertAsCloseToExact;
import static io.efficientnet.core.Float64Checks.logits;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A oneDNN training step is the step {@code fit} takes: same loss, update of every parameter (running statistics
 * included) and optimizer state, with dropout and drop-path off so that no random masks differ; with them on, training
 * is repeatable from ND4J's seed and lowers the loss.
 */
@Tag("numeric")
class OneDnnTrainingTest {

    private static EfficientNet.Builder small(IUpdater updater, double dropout, double dropPath, int res) {
        return EfficientNet.builder().phi(-3).resolution(res).numClasses(5).updater(updater).weightDecay(1e-3)
                .dropoutRate(dropout).dropPathRate(dropPath).seed(3);
    }

    static INDArray oneHot(int n, int classes) {
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, classes);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, (i * 3) % classes, 1f);
        }
        return y;
    }

    /**
     * One step through the engine and one with {@code fit} from the same start, and a float64 {@code fit} as the
     * reference: loss, the update of every parameter, the optimizer state and the trained network's logits must be as
     * close to float64 as DL4J's float32 {@code fit} ({@link Float64Checks#assertAsCloseToExact}). A wrong gradient
     * anywhere shows as an error 100× DL4J's or more.
     */
    /**
     * After one step from {@code start}: the engine's loss, the update of every parameter (weights, γ/β, and batch
     * norm's running mean and variance) and the optimizer state are as close to the float64 {@code exact} step as
     * float32 {@code fit} ({@code plain}) is.
     */
    static void assertStepAsCloseToExact(ComputationGraph exact, ComputationGraph plain, ComputationGraph engine,
                                         INDArray start, double loss) {
        assertAsCloseToExact(exact.score(), plain.score(), loss, "loss");
        assertAsCloseToExact(exact.params().castTo(DataType.FLOAT).sub(start), plain.params().sub(start),
                engine.params().sub(start), "update");
        INDArray state = exact.getUpdater().getStateViewArray();
        if (state != null) {
            assertAsCloseToExact(state, plain.getUpdater().getStateViewArray(),
                    engine.getUpdater().getStateViewArray(), "optimizer state");
        }
    }

    private static void assertSameStep(EfficientNet.Builder builder, int batch, int res) {
        assertSameStep(builder, batch, res, ActivationLayout.BLOCKED);
    }

    private static void assertSameStep(EfficientNet.Builder builder, int batch, int res, ActivationLayout layout) {
        assertSameStep(builder, batch, res, layout, 5);
    }

    private static void assertSameStep(EfficientNet.Builder builder, int batch, int res, ActivationLayout layout,
                                       int classes) {
        ComputationGraph plain = builder.build().init();
        ComputationGraph engine = builder.build().init();
        ComputationGraph exact = builder.dataType(DataType.DOUBLE).build().init();
        builder.dataType(DataType.FLOAT);
        randomizeRunningStatistics(plain);
        randomizeRunningStatistics(engine);
        randomizeRunningStatistics(exact);
        assertEquals(plain.params(), engine.params());
        INDArray start = plain.params().dup();
        Nd4j.getRandom().setSeed(100);
        INDArray x = Nd4j.randn(DataType.FLOAT, batch, 3, res, res);
        INDArray y = oneHot(batch, classes);
        try (OneDnnTraining training = OneDnnTraining.of(engine, layout)) {
            plain.fit(new INDArray[] {x}, new INDArray[] {y});
            exact.fit(new INDArray[] {x.castTo(DataType.DOUBLE)}, new INDArray[] {y.castTo(DataType.DOUBLE)});
            double loss = training.fit(x, y);
            assertStepAsCloseToExact(exact, plain, engine, start, loss);
            assertEquals(loss, engine.score(), 0.0, "model.score() after the step");
            assertEquals(1, engine.getIterationCount());
            Nd4j.getRandom().setSeed(7);
            INDArray probe = Nd4j.randn(DataType.FLOAT, 3, 3, res, res);
            // the trained networks' logits (the engine wrote every parameter DL4J's layers read)
            INDArray exactLogits = logits(exact, probe.castTo(DataType.DOUBLE));
            assertAsCloseToExact(exactLogits, logits(plain, probe), logits(engine, probe), "logits after the step");
            // a second step continues from the engine's state as fit continues from its own (stale weights or
            // optimizer state would give another loss altogether)
            plain.fit(new INDArray[] {x}, new INDArray[] {y});
            exact.fit(new INDArray[] {x.castTo(DataType.DOUBLE)}, new INDArray[] {y.castTo(DataType.DOUBLE)});
            double next = training.fit(x, y);
            assertAsCloseToExact(exact.score(), plain.score(), next, "second loss");
            assertEquals(2, engine.getIterationCount());
        }
    }

    /**
     * A 1000-class head, as ImageNet's: where oneDNN's backward-data kernel for it wants the weights in another
     * blocked format than the forward pass (B0's 1280 → 1000 on AVX-512), the plan keeps a second copy refreshed from
     * the network's weights before each step; stale or misplaced weights there would give the layers below a wrong
     * gradient.
     */
    @Test
    void aThousandClassHeadTrainsLikeFit() {
        assertSameStep(EfficientNet.builder().variant(Variant.B0).resolution(64).numClasses(1000)
                .updater(new Sgd(0.01)).dropoutRate(0).dropPathRate(0).seed(3), 4, 64, ActivationLayout.BLOCKED,
                1000);
    }

    /** Running mean ~ N(0, 0.3²) and variance in [0.2, 2.2) for every batch norm (γ = 1, β = 0 as initialised). */
    private static void randomizeRunningStatistics(ComputationGraph net) {
        Nd4j.getRandom().setSeed(21);
        for (org.deeplearning4j.nn.api.Layer l : net.getLayers()) {
            if (l.conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.BatchNormalization) {
                INDArray mean = l.getParam("mean");
                l.setParam("mean", Nd4j.randn(DataType.DOUBLE, mean.shape()).muli(0.3).castTo(mean.dataType()));
                INDArray var = Nd4j.rand(DataType.DOUBLE, mean.shape()).muli(2).addi(0.2);
                l.setParam("log10stdev", org.nd4j.linalg.ops.transforms.Transforms.log(var, 10.0, true).muli(0.5)
                        .castTo(mean.dataType()));
            }
        }
    }

    @Test
    void oneStepEqualsFitWithMomentumAndWeightDecay() {
        // (64 px: the last blocks see 2×2 maps, so batch norm's batch statistics are not taken over a handful of
        // nearly equal values, which makes the step ill-conditioned and float32 results chaotic)
        assertSameStep(small(new Nesterovs(0.01, 0.9), 0, 0, 64), 6, 64);
    }

    /**
     * With activations forced to channels-last, ops without a jit kernel there run in the blocked layout behind
     * reorders (and small maps in plain nchw): the step is still fit's.
     */
    @Test
    void oneStepInTheChannelsLastLayoutEqualsFit() {
        assertSameStep(small(new Nesterovs(0.01, 0.9), 0, 0, 64), 6, 64, ActivationLayout.CHANNELS_LAST);
    }

    @Test
    void oneStepEqualsFitAtAnotherResolution() {
        // (not Adam: its first step is lr·g/(|g|+ε), which turns float noise in near-zero gradients into full steps)
        assertSameStep(small(new Sgd(0.05), 0, 0, 45), 3, 45);
    }

    @Test
    void oneStepEqualsFitWithDl4jLayersAndUnfusedSwish() {
        assertSameStep(LayerChoices.dl4jLayers(small(new Sgd(0.05), 0, 0, 64)), 4, 64);
        assertSameStep(LayerChoices.fusedSwish(small(new Sgd(0.05), 0, 0, 64), false), 4, 64);
    }

    @Test
    void dropoutAndDropPathAreRepeatableAndTrainingLowersTheLoss() {
        double[][] losses = new double[2][];
        INDArray[] params = new INDArray[2];
        for (int run = 0; run < 2; run++) {
            ComputationGraph net = small(new Adam(3e-3), 0.3, 0.3, 32).build().init();
            Nd4j.getRandom().setSeed(5);
            INDArray x = Nd4j.randn(DataType.FLOAT, 8, 3, 32, 32);
            INDArray y = oneHot(8, 5);
            losses[run] = new double[12];
            try (OneDnnTraining training = OneDnnTraining.of(net)) {
                for (int i = 0; i < losses[run].length; i++) {
                    losses[run][i] = training.fit(x, y);
                }
            }
            params[run] = net.params().dup();
        }
        assertEquals(params[0], params[1], "the same seed gives the same masks and the same training");
        // with fresh masks at every step single losses jump; their means over the first and the last four steps fall
        double first = Arrays.stream(losses[0], 0, 4).average().orElseThrow();
        double last = Arrays.stream(losses[0], 8, 12).average().orElseThrow();
        assertTrue(last < first, "mean loss of steps 1-4 " + first + ", of steps 9-12 " + last + ": "
                + Arrays.toString(losses[0]));
    }

    /**
     * A step whose loss is finite but whose gradient or running-statistic update is not applies nothing and returns
     * NaN: here one batch norm's stored running deviation is +∞ (training normalises with batch statistics, so the
     * loss stays finite; the running-variance update is ∞/∞).
     */
    @Test
    void aStepWithANonFiniteUpdateAppliesNothing() {
        ComputationGraph net = small(new Adam(3e-3), 0, 0, 32).build().init();
        org.deeplearning4j.nn.api.Layer bn = Arrays.stream(net.getLayers())
                .filter(l -> l.conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.BatchNormalization)
                .reduce((a, b) -> b).orElseThrow();
        bn.setParam("log10stdev", bn.getParam("log10stdev").dup().assign(Float.POSITIVE_INFINITY));
        INDArray before = net.params().dup();
        Nd4j.getRandom().setSeed(5);
        try (OneDnnTraining training = OneDnnTraining.of(net)) {
            double loss = training.fit(Nd4j.randn(DataType.FLOAT, 4, 3, 32, 32), oneHot(4, 5));
            assertTrue(Double.isNaN(loss), "loss " + loss);
        }
        assertTrue(before.equalsWithEps(net.params(), 0), "nothing applied");
        assertEquals(0, net.getIterationCount());
    }

    /** Max pooling and other losses are refused naming the vertex (frozen layers: {@link OneDnnFrozenTrainingTest}). */
    @Test
    void refusesWhatItCannotTrainNamingTheVertex() {
        ComputationGraph base = small(new Sgd(0.01), 0, 0, 32).build().init();
        ComputationGraph maxPool = small(new Sgd(0.01), 0, 0, 32).includeTop(false).pooling(Pooling.MAX).build()
                .init();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OneDnnTraining.of(maxPool));
        assertTrue(e.getMessage().contains("'max_pool'"), e.getMessage());

        ComputationGraph mse = new TransferLearning.GraphBuilder(base)
                .fineTuneConfiguration(new FineTuneConfiguration.Builder().updater(new Sgd(0.01)).build())
                .removeVertexKeepConnections("predictions")
                .addLayer("predictions", new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(
                        base.getLayer("predictions").getParam("W").size(0)).nOut(5).activation(Activation.IDENTITY)
                        .build(), "avg_pool")
                .setOutputs("predictions").build();
        e = assertThrows(IllegalArgumentException.class, () -> OneDnnTraining.of(mse));
        assertTrue(e.getMessage().contains("'predictions'"), e.getMessage());
    }

    @Test
    void aNewDenseHeadTrainsLikeFit() {
        ComputationGraph base = small(new Sgd(0.01), 0, 0, 32).build().init();
        long features = base.getLayer("predictions").getParam("W").size(0);
        ComputationGraph[] nets = new ComputationGraph[2];
        for (int i = 0; i < 2; i++) {
            nets[i] = new TransferLearning.GraphBuilder(base.clone())
                    .fineTuneConfiguration(new FineTuneConfiguration.Builder().updater(new Sgd(0.05)).seed(9).build())
                    .removeVertexKeepConnections("predictions")
                    .addLayer("fc", new DenseLayer.Builder().nIn(features).nOut(16).activation(Activation.RELU)
                            .build(), "avg_pool")
                    .addLayer("predictions", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16)
                            .nOut(3).activation(Activation.SOFTMAX).build(), "fc")
                    .setOutputs("predictions").build();
        }
        nets[1].setParams(nets[0].params().dup());
        INDArray start = nets[0].params().dup();
        Nd4j.getRandom().setSeed(4);
        INDArray x = Nd4j.randn(DataType.FLOAT, 4, 3, 32, 32);
        INDArray y = oneHot(4, 3);
        ComputationGraph exact = nets[0].convertDataType(DataType.DOUBLE);
        nets[0].fit(new INDArray[] {x}, new INDArray[] {y});
        exact.fit(new INDArray[] {x.castTo(DataType.DOUBLE)}, new INDArray[] {y.castTo(DataType.DOUBLE)});
        try (OneDnnTraining training = OneDnnTraining.of(nets[1])) {
            double loss = training.fit(x, y);
            assertAsCloseToExact(exact.score(), nets[0].score(), loss, "loss");
            assertAsCloseToExact(exact.params().castTo(DataType.FLOAT).sub(start), nets[0].params().sub(start),
                    nets[1].params().sub(start), "update");
        }
    }

    @Test
    void badInputAndClosedEngineAreReported() {
        ComputationGraph net = small(new Sgd(0.01), 0, 0, 32).build().init();
        OneDnnTraining training = OneDnnTraining.of(net);
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, 3, 32, 32);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> training.fit(x, oneHot(3, 5)));
        assertTrue(e.getMessage().contains("labels must be [2, 5]") && e.getMessage().contains("[3, 5]"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> training.fit(Nd4j.randn(DataType.FLOAT, 2, 1, 32, 32), oneHot(2, 5)));
        assertTrue(e.getMessage().contains("[N, 3, H, W]"), e.getMessage());
        assertEquals(0, net.getIterationCount(), "nothing was applied");
        assertTrue(Double.isFinite(training.fit(x, oneHot(2, 5))));
        training.close();
        training.close();
        assertThrows(IllegalStateException.class, () -> training.fit(x, oneHot(2, 5)));
    }
}
