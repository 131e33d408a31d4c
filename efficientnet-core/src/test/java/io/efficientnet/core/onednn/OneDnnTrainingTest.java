package io.efficientnet.core.onednn;

import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.Pooling;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A oneDNN training step is the step {@code fit} takes: same loss, update of every parameter (running statistics
 * included) and optimizer state, with dropout and drop-path off so that no random masks differ; with them on, training
 * is repeatable from ND4J's seed and lowers the loss.
 */
class OneDnnTrainingTest {

    private static EfficientNet.Builder small(IUpdater updater, double dropout, double dropPath, int res) {
        return EfficientNet.builder().phi(-3).resolution(res).numClasses(5).updater(updater).weightDecay(1e-3)
                .dropoutRate(dropout).dropPathRate(dropPath).seed(3);
    }

    private static INDArray oneHot(int n, int classes) {
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, classes);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, (i * 3) % classes, 1f);
        }
        return y;
    }

    /** Largest difference relative to the largest magnitude of {@code expected}. */
    private static void assertClose(INDArray expected, INDArray actual, double tolerance, String what) {
        double diff = expected.sub(actual).amaxNumber().doubleValue();
        double scale = expected.amaxNumber().doubleValue();
        assertTrue(diff <= tolerance * scale, what + ": max difference " + diff + " (largest value " + scale + ")");
    }

    /**
     * One step through the engine and one with {@code fit} from the same start, and a float64 {@code fit} as the
     * reference. The engine's kernels add float32 sums in other orders than DL4J's, and on these small random networks
     * (loss dominated by the weight-decay term, updates of 10–60 per weight) both float32 updates differ from the
     * float64 one by 2–7e-4 of the largest update; the engine must be as close to float64 as DL4J's float32 {@code fit}
     * (within 3×) and within 3e-3 of it (a wrong gradient anywhere shows as 1e-1 or more).
     */
    private static void assertSameStep(EfficientNet.Builder builder, int batch, int res) {
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
        INDArray y = oneHot(batch, 5);
        try (OneDnnTraining training = OneDnnTraining.of(engine)) {
            plain.fit(new INDArray[] {x}, new INDArray[] {y});
            exact.fit(new INDArray[] {x.castTo(DataType.DOUBLE)}, new INDArray[] {y.castTo(DataType.DOUBLE)});
            double loss = training.fit(x, y);
            assertEquals(plain.score(), loss, 1e-5 * plain.score(), "loss");
            assertEquals(loss, engine.score(), 0.0, "model.score() after the step");
            // the update of every parameter: weights, γ/β, and batch norm's running mean and variance
            INDArray reference = exact.params().castTo(DataType.FLOAT).sub(start);
            INDArray dl4jUpdate = plain.params().sub(start);
            INDArray engineUpdate = engine.params().sub(start);
            double scale = reference.amaxNumber().doubleValue();
            double dl4jError = dl4jUpdate.sub(reference).amaxNumber().doubleValue() / scale;
            double engineError = engineUpdate.sub(reference).amaxNumber().doubleValue() / scale;
            assertTrue(engineError <= 3 * dl4jError + 1e-6, "update error against float64: oneDNN " + engineError
                    + ", DL4J float32 " + dl4jError);
            assertClose(dl4jUpdate, engineUpdate, 3e-3, "update");
            INDArray state = plain.getUpdater().getStateViewArray();
            if (state != null) {
                assertClose(state, engine.getUpdater().getStateViewArray(), 1e-3, "optimizer state");
            }
            assertEquals(1, engine.getIterationCount());
            Nd4j.getRandom().setSeed(7);
            INDArray probe = Nd4j.randn(DataType.FLOAT, 3, 3, res, res);
            assertClose(plain.output(false, probe)[0], engine.output(false, probe)[0], 1e-2, "inference output");
            // a second step continues from the engine's state as fit continues from its own
            plain.fit(new INDArray[] {x}, new INDArray[] {y});
            double next = training.fit(x, y);
            // (differences grow step by step on these diverging random networks: within 1e-2; stale weights or
            // optimizer state would give another loss altogether)
            assertEquals(plain.score(), next, 1e-2 * plain.score(), "second loss");
            assertEquals(2, engine.getIterationCount());
        }
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
        assertSameStep(small(new Nesterovs(0.01, 0.9), 0, 0, 32), 6, 32);
    }

    @Test
    void oneStepEqualsFitAtAnotherResolution() {
        // (not Adam: its first step is lr·g/(|g|+ε), which turns float noise in near-zero gradients into full steps)
        assertSameStep(small(new Sgd(0.05), 0, 0, 45), 3, 45);
    }

    @Test
    void oneStepEqualsFitWithDl4jLayersAndUnfusedSwish() {
        assertSameStep(small(new Sgd(0.05), 0, 0, 32).fastBatchNorm(false).fastConvolutions(false), 4, 32);
        assertSameStep(small(new Sgd(0.05), 0, 0, 32).fusedSwish(false), 4, 32);
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
        assertTrue(losses[0][11] < 0.7 * losses[0][0], "loss " + losses[0][0] + " -> " + losses[0][11]);
    }

    @Test
    void refusesWhatItCannotTrainNamingTheVertex() {
        ComputationGraph base = small(new Sgd(0.01), 0, 0, 32).build().init();
        ComputationGraph frozen = new TransferLearning.GraphBuilder(base)
                .fineTuneConfiguration(new FineTuneConfiguration.Builder().updater(new Sgd(0.01)).build())
                .setFeatureExtractor("stem_activation").build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OneDnnTraining.of(frozen));
        assertTrue(e.getMessage().contains("frozen"), e.getMessage());

        ComputationGraph maxPool = small(new Sgd(0.01), 0, 0, 32).includeTop(false).pooling(Pooling.MAX).build()
                .init();
        e = assertThrows(IllegalArgumentException.class, () -> OneDnnTraining.of(maxPool));
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
        nets[0].fit(new INDArray[] {x}, new INDArray[] {y});
        try (OneDnnTraining training = OneDnnTraining.of(nets[1])) {
            double loss = training.fit(x, y);
            assertEquals(nets[0].score(), loss, 1e-5 * loss, "loss");
            assertClose(nets[0].params().sub(start), nets[1].params().sub(start), 1e-3, "update");
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
