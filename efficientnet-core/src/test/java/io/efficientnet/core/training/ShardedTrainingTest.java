package io.efficientnet.core.training;

import io.efficientnet.core.EfficientNet;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.efficientnet.core.Float64Checks.assertAsCloseToExact;
import static io.efficientnet.core.Float64Checks.logits;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A sharded step is the step {@code fit} takes on the whole batch: same loss, update of every parameter (running
 * statistics included) and optimizer state (dropout and drop-path off, so that no random masks differ); bad input
 * and failures are reported.
 */
@Tag("numeric")
class ShardedTrainingTest {

    private static ComputationGraph smallNet(IUpdater updater, double dropout, double dropPath) {
        return smallNet(updater, dropout, dropPath, 32);
    }

    private static ComputationGraph smallNet(IUpdater updater, double dropout, double dropPath, int resolution) {
        return EfficientNet.builder().phi(-3).resolution(resolution).numClasses(5).updater(updater).weightDecay(1e-3)
                .dropoutRate(dropout).dropPathRate(dropPath).seed(3).build().init();
    }

    private static INDArray oneHot(int n, int classes) {
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, classes);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, (i * 3) % classes, 1f);
        }
        return y;
    }


    /**
     * One step with {@code fit} and one with {@code shards} shards from the same start, and a float64 {@code fit} as the
     * reference. The shards run their convolutions single-threaded, so float sums are added in another order than in
     * the multi-threaded {@code fit}, and both orders move with the CPU (vector width, oneDNN's kernels): loss, update,
     * optimizer state and the trained network's outputs are held to float64 as closely as {@code fit}'s own float32
     * step ({@link io.efficientnet.core.Float64Checks#assertAsCloseToExact}). Of the second step only the loss is compared, which shows whether it
     * continued from the sharded model's own weights and optimizer state, and no later steps: training on random data
     * amplifies last-bit differences from step to step.
     */
    private static void assertSameStep(IUpdater updater, int batch, int shards) {
        assertSameStep(updater, batch, shards, 32);
    }

    private static void assertSameStep(IUpdater updater, int batch, int shards, int res) {
        ComputationGraph plain = smallNet(updater, 0, 0, res);
        ComputationGraph sharded = smallNet(updater, 0, 0, res);
        ComputationGraph exact = plain.convertDataType(DataType.DOUBLE);
        assertEquals(plain.params(), sharded.params());
        INDArray start = plain.params().dup();
        Nd4j.getRandom().setSeed(100);
        INDArray x = Nd4j.randn(DataType.FLOAT, batch, 3, res, res);
        INDArray y = oneHot(batch, 5);
        try (ShardedTraining training = ShardedTraining.of(sharded, shards)) {
            plain.fit(new INDArray[] {x}, new INDArray[] {y});
            exact.fit(new INDArray[] {x.castTo(DataType.DOUBLE)}, new INDArray[] {y.castTo(DataType.DOUBLE)});
            double loss = training.fit(x, y);
            assertAsCloseToExact(exact.score(), plain.score(), loss, "loss");
            assertEquals(loss, sharded.score(), 0.0, "model.score() after the step");
            // the update of every parameter: weights, γ/β, and batch norm's running mean and variance
            INDArray start64 = start.castTo(DataType.DOUBLE);
            assertAsCloseToExact(exact.params().sub(start64), plain.params().castTo(DataType.DOUBLE).sub(start64),
                    sharded.params().castTo(DataType.DOUBLE).sub(start64), "update");
            INDArray state = exact.getUpdater().getStateViewArray();
            if (state != null) {
                assertAsCloseToExact(state, plain.getUpdater().getStateViewArray(),
                        sharded.getUpdater().getStateViewArray(), "optimizer state");
            }
            assertEquals(1, sharded.getIterationCount());
            // the running statistics moved like fit's (inference uses them)
            Nd4j.getRandom().setSeed(7);
            INDArray probe = Nd4j.randn(DataType.FLOAT, 3, 3, res, res);
            assertAsCloseToExact(logits(exact, probe.castTo(DataType.DOUBLE)), logits(plain, probe),
                    logits(sharded, probe), "inference logits");
            // a second step continues from the sharded model's own weights and optimizer state as fit continues from
            // its own (stale weights or optimizer state would give another loss altogether)
            plain.fit(new INDArray[] {x}, new INDArray[] {y});
            exact.fit(new INDArray[] {x.castTo(DataType.DOUBLE)}, new INDArray[] {y.castTo(DataType.DOUBLE)});
            double next = training.fit(x, y);
            assertAsCloseToExact(exact.score(), plain.score(), next, "second loss");
            assertEquals(2, sharded.getIterationCount());
        }
    }

    /**
     * Sharded steps on one fixed batch lower its loss: the mean loss of the last two of six steps is below that of the
     * first two. Without dropout each step follows the negative gradient of that batch's loss, which lowers it by about
     * lr·|g|² when lr is small against the loss's curvature. At this network's start (batch norm over a few values per
     * channel, a saturated softmax) the gradient is large and steps of lr 1e-2 already overshoot, for {@code fit}
     * alike; at 1e-6 the loss falls step by step by a few percent, far more than rounding moves it. An update not
     * applied leaves the loss flat; a wrong or stale one raises it.
     */
    @Test
    void shardedStepsLowerTheLossOfAFixedBatch() {
        for (IUpdater updater : new IUpdater[] {new Sgd(1e-6), new Nesterovs(1e-6, 0.9)}) {
            ComputationGraph net = smallNet(updater, 0, 0);
            Nd4j.getRandom().setSeed(33);
            INDArray x = Nd4j.randn(DataType.FLOAT, 7, 3, 32, 32);
            INDArray y = oneHot(7, 5);
            double[] losses = new double[6];
            try (ShardedTraining training = ShardedTraining.of(net, 3)) {
                for (int step = 0; step < losses.length; step++) {
                    losses[step] = training.fit(x, y);
                }
            }
            int n = losses.length;
            assertTrue((losses[n - 2] + losses[n - 1]) / 2 < (losses[0] + losses[1]) / 2,
                    updater + ": losses on one batch " + java.util.Arrays.toString(losses));
        }
    }

    @Test
    void unevenShardsStepLikeOneFitWithMomentumAndWeightDecay() {
        assertSameStep(new Nesterovs(0.01, 0.9), 7, 3);
    }

    @Test
    void twoShardsStepLikeOneFitWithSgd() {
        assertSameStep(new Sgd(0.01), 8, 2);
    }

    /**
     * At 64 px: with 3 examples at 32 px the last stages' 1×1 maps give batch norm 3 values per channel, whose
     * gradients explode (with {@code fit} alike), so there would be nothing finite to compare.
     */
    @Test
    void moreShardsThanExamplesUsesOneExamplePerShard() {
        assertSameStep(new Sgd(0.01), 3, 4, 64);
    }

    @Test
    void oneShardIsPlainFit() {
        assertSameStep(new Nesterovs(0.01, 0.9), 4, 1);
    }

    /** A transfer-learning graph: frozen layers (batch norms included) up to block 3, a new 3-class head. */
    private static ComputationGraph transferNet() {
        ComputationGraph base = smallNet(new Sgd(0.01), 0, 0);
        return new TransferLearning.GraphBuilder(base)
                .fineTuneConfiguration(new FineTuneConfiguration.Builder().updater(new Nesterovs(0.01, 0.9)).seed(5)
                        .build())
                .setFeatureExtractor("block3a_project_bn")
                .nOutReplace("predictions", 3, WeightInit.XAVIER)
                .build();
    }

    @Test
    void frozenLayersFromTransferLearningStepLikeOneFit() {
        ComputationGraph plain = transferNet();
        ComputationGraph sharded = transferNet();
        assertEquals(plain.params(), sharded.params());
        INDArray start = plain.params().dup();
        ComputationGraph exact = plain.convertDataType(DataType.DOUBLE);
        INDArray frozenBefore = sharded.getLayer("block2a_expand_conv").params().dup();
        Nd4j.getRandom().setSeed(21);
        INDArray x = Nd4j.randn(DataType.FLOAT, 6, 3, 32, 32);
        INDArray y = oneHot(6, 3);
        try (ShardedTraining training = ShardedTraining.of(sharded, 2)) {
            plain.fit(new INDArray[] {x}, new INDArray[] {y});
            exact.fit(new INDArray[] {x.castTo(DataType.DOUBLE)}, new INDArray[] {y.castTo(DataType.DOUBLE)});
            double loss = training.fit(x, y);
            assertAsCloseToExact(exact.score(), plain.score(), loss, "loss");
            INDArray update = plain.params().sub(start);
            INDArray start64 = start.castTo(DataType.DOUBLE);
            assertAsCloseToExact(exact.params().sub(start64), plain.params().castTo(DataType.DOUBLE).sub(start64),
                    sharded.params().castTo(DataType.DOUBLE).sub(start64), "update");
            // the frozen part did not move, the new head did
            assertEquals(frozenBefore, sharded.getLayer("block2a_expand_conv").params());
            assertTrue(update.amaxNumber().doubleValue() > 0, "the head trained");
        }
    }

    @Test
    void randomRegularisationIsRepeatableFromTheCallersSeed() {
        INDArray[] params = new INDArray[2];
        for (int run = 0; run < 2; run++) {
            ComputationGraph net = smallNet(new Sgd(0.05), 0.3, 0.3);
            try (ShardedTraining training = ShardedTraining.of(net, 2)) {
                for (int step = 0; step < 2; step++) {
                    Nd4j.getRandom().setSeed(40 + step);
                    training.fit(new DataSet(Nd4j.randn(DataType.FLOAT, 6, 3, 32, 32), oneHot(6, 5)));
                }
            }
            params[run] = net.params().dup();
        }
        assertEquals(params[0], params[1]);
    }

    @Test
    void listenersSeeEveryStep() {
        ComputationGraph net = smallNet(new Sgd(0.05), 0, 0);
        List<Double> scores = new ArrayList<>();
        List<Integer> iterations = new ArrayList<>();
        net.setListeners(new BaseTrainingListener() {
            @Override
            public void iterationDone(Model model, int iteration, int epoch) {
                scores.add(model.score());
                iterations.add(iteration);
            }
        });
        Nd4j.getRandom().setSeed(31);
        try (ShardedTraining training = ShardedTraining.of(net, 2)) {
            double first = training.fit(Nd4j.randn(DataType.FLOAT, 4, 3, 32, 32), oneHot(4, 5));
            training.fit(Nd4j.randn(DataType.FLOAT, 4, 3, 32, 32), oneHot(4, 5));
            assertEquals(List.of(0, 1), iterations);
            assertEquals(first, scores.get(0), 0.0);
        }
    }

    @Test
    void dl4jBatchNormCannotBeSharded() {
        ComputationGraph net = EfficientNet.builder().phi(-3).resolution(32).numClasses(5).fastBatchNorm(false)
                .seed(3).build().init();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ShardedTraining.of(net, 2));
        assertTrue(e.getMessage().contains("'stem_bn'") && e.getMessage().contains("fastBatchNorm(true)"),
                e.getMessage());
    }

    @Test
    void badInputAndClosedAreReported() {
        ComputationGraph net = smallNet(new Sgd(0.05), 0, 0);
        assertThrows(IllegalArgumentException.class, () -> ShardedTraining.of(net, 0));
        assertThrows(IllegalArgumentException.class, () -> ShardedTraining.of(null, 2));
        ShardedTraining training = ShardedTraining.of(net, 2);
        assertEquals(2, training.shards());
        Nd4j.getRandom().setSeed(32);
        INDArray x = Nd4j.randn(DataType.FLOAT, 4, 3, 32, 32);
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> training.fit(x, oneHot(3, 5)));
        assertTrue(count.getMessage().contains("same N"), count.getMessage());
        DataSet masked = new DataSet(x, oneHot(4, 5), null, Nd4j.ones(DataType.FLOAT, 4, 1));
        assertThrows(IllegalArgumentException.class, () -> training.fit(masked));
        // labels with the wrong number of classes fail inside the shards: reported with the shard's examples, no hang
        IllegalStateException failed = assertTimeoutPreemptively(Duration.ofSeconds(60),
                () -> assertThrows(IllegalStateException.class, () -> training.fit(x, oneHot(4, 7))));
        assertTrue(failed.getMessage().contains("examples 0..1"), failed.getMessage());
        INDArray before = net.params().dup();
        training.fit(x, oneHot(4, 5)); // usable after a failed step
        assertFalse(before.equals(net.params()));
        training.close();
        assertThrows(IllegalStateException.class, () -> training.fit(x, oneHot(4, 5)));
    }
}
