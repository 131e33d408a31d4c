package io.efficientnet.core.training;

import io.efficientnet.core.EfficientNet;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.deeplearning4j.nn.weights.WeightInit;
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
     * One step with {@code fit} and one with {@code shards} shards from the same start. Only the first step is compared
     * tightly: the shards run their convolutions single-threaded, so float sums are added in another order than in the
     * two-threaded {@code fit}, and training on random data amplifies those last-bit differences from step to step
     * (measured: a relative difference of ~1e-7 in the first update, ~1e-5 in the second, ~1e-3 in the third, even with
     * one shard).
     */
    private static void assertSameStep(IUpdater updater, int batch, int shards) {
        assertSameStep(updater, batch, shards, 32);
    }

    private static void assertSameStep(IUpdater updater, int batch, int shards, int res) {
        ComputationGraph plain = smallNet(updater, 0, 0, res);
        ComputationGraph sharded = smallNet(updater, 0, 0, res);
        assertEquals(plain.params(), sharded.params());
        INDArray start = plain.params().dup();
        Nd4j.getRandom().setSeed(100);
        INDArray x = Nd4j.randn(DataType.FLOAT, batch, 3, res, res);
        INDArray y = oneHot(batch, 5);
        try (ShardedTraining training = ShardedTraining.of(sharded, shards)) {
            plain.fit(new INDArray[] {x}, new INDArray[] {y});
            double loss = training.fit(x, y);
            assertEquals(plain.score(), loss, 1e-6 * plain.score(), "loss");
            assertEquals(loss, sharded.score(), 0.0, "model.score() after the step");
            // the update of every parameter: weights, γ/β, and batch norm's running mean and variance
            assertClose(plain.params().sub(start), sharded.params().sub(start), 1e-5, "update");
            INDArray state = plain.getUpdater().getStateViewArray();
            if (state != null) {
                assertClose(state, sharded.getUpdater().getStateViewArray(), 1e-5, "optimizer state");
            }
            assertEquals(1, sharded.getIterationCount());
            // the running statistics moved like fit's (inference output uses them)
            Nd4j.getRandom().setSeed(7);
            INDArray probe = Nd4j.randn(DataType.FLOAT, 3, 3, res, res);
            assertClose(plain.output(false, probe)[0], sharded.output(false, probe)[0], 1e-4, "inference output");
            // and the model keeps training: a second step from the sharded model's own state lowers the loss
            double next = training.fit(x, y);
            assertTrue(Double.isFinite(next), "second loss " + next);
            assertEquals(2, sharded.getIterationCount());
        }
    }

    /** Largest difference relative to the largest magnitude of {@code expected}. */
    private static void assertClose(INDArray expected, INDArray actual, double tolerance, String what) {
        double diff = expected.sub(actual).amaxNumber().doubleValue();
        double scale = expected.amaxNumber().doubleValue();
        assertTrue(diff <= tolerance * scale, what + ": max difference " + diff + " (largest value " + scale + ")");
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
        INDArray frozenBefore = sharded.getLayer("block2a_expand_conv").params().dup();
        Nd4j.getRandom().setSeed(21);
        INDArray x = Nd4j.randn(DataType.FLOAT, 6, 3, 32, 32);
        INDArray y = oneHot(6, 3);
        try (ShardedTraining training = ShardedTraining.of(sharded, 2)) {
            plain.fit(new INDArray[] {x}, new INDArray[] {y});
            double loss = training.fit(x, y);
            assertEquals(plain.score(), loss, 1e-6 * plain.score(), "loss");
            INDArray update = plain.params().sub(start);
            assertClose(update, sharded.params().sub(start), 1e-5, "update");
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
