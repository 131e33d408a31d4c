package io.efficientnet.train.run;

import io.efficientnet.train.TestImages;
import io.efficientnet.train.data.DataSplits;
import io.efficientnet.train.data.EvalTransform;
import io.efficientnet.train.data.ImageBatches;
import io.efficientnet.train.data.SampleTransform;
import io.efficientnet.train.data.SkippedImages;
import io.efficientnet.core.weights.ImageNetPreprocessing;
import io.efficientnet.train.recipe.Recipe;
import io.efficientnet.core.engine.Engine;
import io.efficientnet.train.spark.SparkStepRunner;
import io.efficientnet.train.step.StepRunner;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Spark training with a {@code local[2]} master, through the same {@link Trainer} loop as local training: the loss
 * goes down, a stopped run resumes, and the checkpoint restores in a plain {@link ComputationGraph} and evaluates.
 */
class SparkTrainingTest {

    @TempDir
    static Path tmp;
    static Path data;

    @BeforeAll
    static void makeData() throws IOException {
        data = tmp.resolve("shapes");
        TestImages.writeTree(data, 16, 16, 11); // TrainerTest's tree: 48 validation images
    }

    private static Trainer.Outcome train(Path out, boolean resume, List<Double> losses, List<String> console,
            String... extra) throws IOException {
        return TinyRuns.train(data, out, resume, losses, console, extra);
    }

    @Test
    void parameterAveragingOnLocal2TrainsResumesAndRestoresWithoutSpark() throws Exception {
        Path out = tmp.resolve("spark-avg");
        List<Double> losses = new ArrayList<>();
        List<String> console = new ArrayList<>();
        // no weight average: validation then uses the raw weights, which is what a checkpoint holds; no dropout or
        // drop-path: their masks are drawn in Spark's task threads, unseeded, and the run must be repeatable
        String[] spark = {"spark.master=local[2]", "run.epochs=6",
                "ema.decay=0", "model.dropout=0", "model.drop_path=0"};
        Trainer.Outcome stopped = train(out, false, losses, console, concat(spark, "run.stop_after_iterations=14"));
        assertFalse(stopped.finished());
        assertEquals(14, losses.size());
        assertTrue(console.stream().anyMatch(l -> l.startsWith("Spark: master local[2], 2 workers")), console.toString());

        Trainer.Outcome o = train(out, true, losses, console, spark);
        assertTrue(o.finished());
        assertEquals(36, losses.size(), "6 epochs of 6 steps, 14 before and 22 after the resume");
        assertEquals(36, o.state().iteration());
        assertTrue(losses.stream().allMatch(Double::isFinite), losses.toString());
        double first = losses.subList(0, 6).stream().mapToDouble(d -> d).average().orElseThrow();
        double last = losses.subList(30, 36).stream().mapToDouble(d -> d).average().orElseThrow();
        assertTrue(last < first * 0.8, "loss must go down on Spark: " + first + " -> " + last + " " + console);
        EpochMetrics best = o.history().stream().max(java.util.Comparator.comparingDouble(EpochMetrics::valTop1))
                .orElseThrow();
        // the best of 6 epochs (the raw weights swing between epochs): chance reaches it with probability < 6 x 0.001
        TrainerTest.assertAboveChance(best.valTop1(), 48, 3, "best validation top-1 on Spark " + console);

        // The best epoch's checkpoint is a plain DL4J model zip: restored without Spark, it evaluates exactly as the
        // trainer's validation did at that epoch.
        Path ckpt = new CheckpointStore(out.resolve("checkpoints"), 2).fileFor(6L * best.epoch());
        ComputationGraph plain = ModelSerializer.restoreComputationGraph(ckpt.toFile(), false);
        assertEquals(6 * best.epoch(), plain.getConfiguration().getIterationCount(), "the schedule's step count");
        DataSplits splits = DataSplits.open(data, 0, 7);
        try (ImageBatches val = new ImageBatches(splits.validation(), SampleTransform.of(new EvalTransform(32, 32,
                0.875)), 32, 32, 8, false, 0, 1, 1, 0, new SkippedImages(s -> { }))) {
            val.setPreProcessor(ImageNetPreprocessing.normalizer());
            EvalResult r = Evaluator.evaluate(plain, val, splits.classes(), null);
            assertEquals(48, r.count());
            assertEquals(best.valTop1(), r.top1(), 1e-9, "restored checkpoint's top-1");
            assertEquals(best.valLoss(), r.loss(), 1e-4 * best.valLoss(), "restored checkpoint's loss");
        }
    }

    @Test
    void oneSparkStepWithOneWorkerEqualsOneLocalStep() throws Exception {
        io.efficientnet.train.config.TrainConfig c = exactConfig(1);
        DataSplits splits = DataSplits.open(data, 0, 7);
        ComputationGraph local = ModelFactory.create(c, 3, Recipe.updater(c, 6), s -> { });
        ComputationGraph spark = local.clone();
        try (ImageBatches train = trainBatches(c, splits);
             SparkStepRunner runner = SparkStepRunner.open(c, splits.train())) {
            for (int step = 0; step < 3; step++) {
                ImageBatches.Batch b = train.nextBatch();
                double localLoss = StepRunner.single(Engine.DL4J, note -> { }).step(local, b);
                double sparkLoss = runner.step(spark, b);
                assertEquals(localLoss, sparkLoss, 1e-4 * Math.abs(localLoss), "loss of step " + step);
                assertEquals(local.getConfiguration().getIterationCount(),
                        spark.getConfiguration().getIterationCount());
                assertClose(local.params(), spark.params(), "parameters after step " + step);
                assertClose(local.getUpdater().getStateViewArray(), spark.getUpdater().getStateViewArray(),
                        "Adam state after step " + step);
            }
        }
    }

    @Test
    void twoSparkWorkersAverageTheReplicasOfTheBatchHalves() throws Exception {
        io.efficientnet.train.config.TrainConfig c = exactConfig(2);
        DataSplits splits = DataSplits.open(data, 0, 7);
        ComputationGraph spark = ModelFactory.create(c, 3, Recipe.updater(c, 6), s -> { });
        try (ImageBatches train = trainBatches(c, splits);
             SparkStepRunner runner = SparkStepRunner.open(c, splits.train())) {
            for (int step = 0; step < 3; step++) {
                ImageBatches.Batch b = train.nextBatch();
                // the reference: each half fitted on its own copy, then parameters, Adam state and losses averaged
                INDArray params = spark.params().mul(0);
                INDArray state = spark.getUpdater().getStateViewArray().mul(0);
                double loss = 0;
                for (DataSet half : b.data().batchBy(4)) {
                    ComputationGraph replica = spark.clone();
                    replica.getConfiguration().setIterationCount(spark.getConfiguration().getIterationCount());
                    replica.fit(half);
                    params.addi(replica.params().mul(0.5));
                    state.addi(replica.getUpdater().getStateViewArray().mul(0.5));
                    loss += replica.score() / 2;
                }
                double sparkLoss = runner.step(spark, b);
                assertEquals(loss, sparkLoss, 1e-4 * Math.abs(loss), "mean loss of the halves, step " + step);
                assertClose(params, spark.params(), "averaged parameters after step " + step);
                assertClose(state, spark.getUpdater().getStateViewArray(), "averaged Adam state after step " + step);
                assertEquals(step + 1, spark.getConfiguration().getIterationCount());
            }
        }
    }

    @Test
    void averagingEveryTwoStepsAveragesReplicasThatEachTookTwoStepsOnTheirHalves() throws Exception {
        io.efficientnet.train.config.TrainConfig c = TinyRuns.config(data, tmp.resolve("exact-k2"),
                "model.dropout=0", "model.drop_path=0", "spark.master=local[2]", "spark.workers=2",
                "spark.averaging_frequency=2");
        DataSplits splits = DataSplits.open(data, 0, 7);
        ComputationGraph spark = ModelFactory.create(c, 3, Recipe.updater(c, 6), s -> { });
        try (ImageBatches train = trainBatches(c, splits);
             SparkStepRunner runner = SparkStepRunner.open(c, splits.train())) {
            assertEquals(2, runner.batchesPerCall());
            for (int job = 0; job < 2; job++) {
                List<ImageBatches.Batch> batches = List.of(train.nextBatch(), train.nextBatch());
                // the reference: worker w's replica takes one step on its half of each batch, in order, counting
                // its iterations on from the driver's; then parameters and Adam state are averaged
                INDArray params = spark.params().mul(0);
                INDArray state = spark.getUpdater().getStateViewArray().mul(0);
                double[] losses = new double[2];
                int start = spark.getConfiguration().getIterationCount();
                for (int w = 0; w < 2; w++) {
                    ComputationGraph replica = spark.clone();
                    for (int step = 0; step < 2; step++) {
                        replica.getConfiguration().setIterationCount(start + step);
                        replica.fit(batches.get(step).data().batchBy(4).get(w));
                        losses[step] += replica.score() / 2;
                    }
                    params.addi(replica.params().mul(0.5));
                    state.addi(replica.getUpdater().getStateViewArray().mul(0.5));
                }
                double[] sparkLosses = runner.steps(spark, batches);
                for (int step = 0; step < 2; step++) {
                    assertEquals(losses[step], sparkLosses[step], 1e-4 * Math.abs(losses[step]),
                            "loss of local step " + step + " of job " + job);
                }
                assertClose(params, spark.params(), "averaged parameters after job " + job);
                assertClose(state, spark.getUpdater().getStateViewArray(), "averaged Adam state after job " + job);
                assertEquals(start + 2, spark.getConfiguration().getIterationCount(), "two steps per job");
            }
        }
    }

    @Test
    void theLoopGroupsBatchesPerJobWithinAnEpochStopsWhereAskedAndResumes() throws Exception {
        Path out = tmp.resolve("spark-k4");
        List<Double> losses = new ArrayList<>();
        List<String> console = new ArrayList<>();
        String[] spark = {"spark.master=local[2]", "spark.averaging_frequency=4", "run.epochs=2"};
        Trainer.Outcome stopped = train(out, false, losses, console, concat(spark, "run.stop_after_iterations=5"));
        assertFalse(stopped.finished());
        assertEquals(5, losses.size(), "a job of 4 steps, then one of 1: the stop is where it was asked");
        assertTrue(console.stream().anyMatch(l -> l.contains("parameters averaged after every 4 steps")),
                console.toString());
        Trainer.Outcome o = train(out, true, losses, console, spark);
        assertTrue(o.finished());
        assertEquals(12, o.state().iteration(), "2 epochs of 6 steps (jobs of 4 and 2 within each epoch)");
        assertEquals(12, losses.size());
        assertTrue(losses.stream().allMatch(Double::isFinite), losses.toString());
    }

    @Test
    void averagingEveryKStepsNeedsABatchThatSplitsEvenly() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> train(tmp.resolve("uneven"),
                false, new ArrayList<>(), new ArrayList<>(), "spark.master=local[2]", "spark.workers=3",
                "spark.averaging_frequency=4"));
        assertTrue(e.getMessage().contains("multiple of the 3 Spark workers"), e.getMessage());
    }

    /** Dropout and drop-path off (their masks are random per JVM thread), no label smoothing, {@code workers}. */
    private static io.efficientnet.train.config.TrainConfig exactConfig(int workers) throws IOException {
        return TinyRuns.config(data, tmp.resolve("exact"), "model.dropout=0", "model.drop_path=0",
                "spark.master=local[" + workers + "]", "spark.workers=" + workers);
    }

    private static ImageBatches trainBatches(io.efficientnet.train.config.TrainConfig c, DataSplits splits) {
        ImageBatches train = new ImageBatches(splits.train(), io.efficientnet.train.recipe.Augmentation.of(c), 32, 32, 8, true, 7, 1, 1,
                c.data().labelSmoothing(), new SkippedImages(s -> { }));
        train.setPreProcessor(ImageNetPreprocessing.normalizer());
        return train;
    }

    private static void assertClose(INDArray expected, INDArray actual, String what) {
        double diff = expected.sub(actual).norm2Number().doubleValue();
        assertTrue(diff <= 1e-5 * expected.norm2Number().doubleValue(), what + " differ by " + diff);
    }

    @Test
    void sparkAndRunWorkersTogetherIsAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> train(tmp.resolve("bad"),
                false, new ArrayList<>(), new ArrayList<>(), "spark.master=local[2]", "run.workers=2"));
        assertTrue(e.getMessage().contains("spark.workers"), e.getMessage());
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
