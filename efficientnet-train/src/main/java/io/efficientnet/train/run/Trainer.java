package io.efficientnet.train.run;

import io.efficientnet.core.engine.Engines;
import io.efficientnet.core.engine.InferenceSession;
import io.efficientnet.core.weights.ImageNetPreprocessing;
import io.efficientnet.core.weights.ModelZip;
import io.efficientnet.train.config.ConfigLoader;
import io.efficientnet.train.config.DataConfig;
import io.efficientnet.train.config.TrainConfig;
import io.efficientnet.train.data.DataSplits;
import io.efficientnet.train.data.EvalTransform;
import io.efficientnet.train.data.ImageBatches;
import io.efficientnet.train.data.ImageFolder;
import io.efficientnet.train.data.SampleTransform;
import io.efficientnet.train.data.SkippedImages;
import io.efficientnet.train.recipe.Augmentation;
import io.efficientnet.train.recipe.Recipe;
import io.efficientnet.train.recipe.WarmupSchedule;
import io.efficientnet.train.recipe.WeightAverage;
import io.efficientnet.train.spark.SparkStepRunner;
import io.efficientnet.train.step.StepRunner;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The training loop: epochs of batches through the network, the weight average, checkpoints, validation, metrics,
 * plots and the saved models, in the run folder:
 * <pre>
 *   config.yaml           the merged configuration
 *   metrics.csv           one row per epoch ({@link EpochMetrics#HEADER})
 *   training-curves.png   loss and accuracy per epoch
 *   model-best.zip        the weights (EMA) with the best validation top-1
 *   model-final.zip       the weights (EMA) at the end
 *   checkpoints/          ckpt-&lt;iteration&gt;.zip, for --resume
 * </pre>
 * A run is a function of its configuration: data order, augmentation and dropout are seeded per epoch, image and
 * iteration, so a resumed run continues exactly as the uninterrupted one would.
 */
public final class Trainer {

    /** Observes a run (tests, the training UI). */
    public interface Listener {
        /** After each optimizer step. */
        default void iterationDone(long iteration, double loss) {
        }

        /** After each epoch's validation. */
        default void epochDone(EpochMetrics metrics) {
        }
    }

    /**
     * What a run produced.
     *
     * @param history        metrics of every epoch so far
     * @param lastValidation the last validation result, or null
     * @param finished       false when the run stopped early ({@code run.stop_after_iterations})
     * @param skippedImages  unreadable images skipped
     * @param state          the final trainer state
     */
    public record Outcome(List<EpochMetrics> history, EvalResult lastValidation, boolean finished, int skippedImages,
                          TrainerState state) {
    }

    private final TrainConfig config;
    private final Path output;
    private final Consumer<String> console;
    /** Engine notes (why DL4J runs instead of oneDNN), each said once. */
    private final Consumer<String> notes;
    private final boolean progressBars;
    private final Listener listener;
    private final Consumer<ComputationGraph> onNetwork;
    /** Why the run should stop after the current step, or null. */
    private volatile String stopRequested;

    /**
     * @param config       the merged configuration ({@code run.output} is the run folder)
     * @param console      where summary lines and warnings go
     * @param progressBars whether to draw progress bars on standard error
     * @param listener     observer of iterations and epochs
     * @param onNetwork    called once with the network before training (e.g. to attach the training UI)
     */
    public Trainer(TrainConfig config, Consumer<String> console, boolean progressBars, Listener listener,
            Consumer<ComputationGraph> onNetwork) {
        this.config = config;
        this.output = Path.of(config.run().output());
        this.console = console;
        java.util.Set<String> said = java.util.concurrent.ConcurrentHashMap.newKeySet();
        this.notes = note -> {
            if (said.add(note)) {
                console.accept(note);
            }
        };
        this.progressBars = progressBars;
        this.listener = listener;
        this.onNetwork = onNetwork;
    }

    /**
     * Trains from scratch ({@code resume == false}) or from the newest checkpoint in the run folder, holding the
     * folder's {@link RunLock} throughout.
     */
    public Outcome run(boolean resume) throws IOException {
        try (RunLock lock = RunLock.acquire(output)) {
            return runLocked(resume);
        }
    }

    /**
     * Asks a running {@link #run} to stop after the current step: it writes a checkpoint at that step (a resumed run
     * continues from it exactly) and returns an unfinished outcome. Callable from any thread, e.g. a signal handler.
     *
     * @param why for the message, e.g. {@code SIGTERM}
     */
    public void requestStop(String why) {
        stopRequested = why;
    }

    private Outcome runLocked(boolean resume) throws IOException {
        DataConfig dc = config.data();
        long seed = config.run().seed();
        DataSplits data = DataSplits.open(Path.of(dc.path()), dc.valSplit(), seed);
        int res = config.model().inputResolution();
        SkippedImages skipped = new SkippedImages(console);
        String configYaml = ConfigLoader.toYaml(config);
        CheckpointStore store = new CheckpointStore(output.resolve("checkpoints"), config.run().keepCheckpoints());

        try (ImageBatches train = new ImageBatches(data.train(), Augmentation.of(config), res, res, dc.batchSize(), true,
                seed, dc.workers(), dc.prefetch(), dc.labelSmoothing(), skipped);
             ImageBatches val = data.validation() == null ? null : evalBatches(data.validation(), res, skipped)) {
            train.setPreProcessor(ImageNetPreprocessing.normalizer());
            long stepsPerEpoch = train.batchesPerEpoch();
            WarmupSchedule schedule = Recipe.schedule(config, stepsPerEpoch);

            ComputationGraph net;
            WeightAverage average;
            TrainerState state;
            List<EpochMetrics> history;
            Path restoredFrom = null;
            if (resume) {
                Checkpoint c = store.restoreLatest(console);
                if (!c.classes().equals(data.classes())) {
                    throw new IOException(c.file() + " was trained on classes " + c.classes() + " but " + dc.path()
                            + " has " + data.classes());
                }
                net = c.network();
                average = c.average();
                state = c.state();
                history = new ArrayList<>(c.history());
                restoredFrom = c.file();
                CheckpointStore.orderChange(c.file(), config).ifPresent(console);
                console.accept("resuming from " + c.file() + " at epoch " + (state.epoch() + 1) + ", batch "
                        + state.batchesDone() + " (iteration " + state.iteration() + ")");
            } else {
                if (!store.list().isEmpty()) {
                    throw new IOException(store.dir() + " already has checkpoints: continue with --resume "
                            + output + ", or choose another --output");
                }
                net = ModelFactory.create(config, data.classes().size(), Recipe.updater(config, stepsPerEpoch),
                        console);
                average = config.ema().enabled() ? new WeightAverage(config.ema().decay(), net) : null;
                state = TrainerState.start();
                history = new ArrayList<>();
            }
            AtomicFiles.writeString(output.resolve("config.yaml"), configYaml);
            console.accept(String.format(Locale.ROOT, "training %s on %d images (%d classes), validating on %s, "
                            + "batch %d%s, %d steps per epoch, %d epochs; run folder %s",
                    describe(net, res),
                    data.train().size(), data.classes().size(),
                    data.validation() == null ? "none" : data.validation().size() + " images", dc.batchSize(),
                    config.run().workers() > 1 ? " over " + config.run().workers() + " workers" : "",
                    stepsPerEpoch, config.run().epochs(), output));
            onNetwork.accept(net);

            try (StepRunner runner = openRunner(data.train())) {
                train.setDecoding(runner.decodesOnDriver());
                Loop loop = new Loop(net, average, state, history, train, val, schedule, store, skipped, ModelZip
                        .describe(new int[] {3, res, res}, dc.evalCropFraction(), data.classes()), data.classes(),
                        configYaml, runner);
                loop.lastCheckpoint = restoredFrom;
                return loop.loop();
            }
        }
    }

    /** A Spark cluster ({@code spark.master}), {@code run.workers} devices, or one device on {@code run.engine}. */
    private StepRunner openRunner(ImageFolder train) {
        if (config.spark().enabled()) {
            SparkStepRunner spark = SparkStepRunner.open(config, train);
            int k = config.spark().averagingFrequency();
            console.accept("Spark: master " + config.spark().master() + ", " + spark.workers()
                    + " workers, parameters averaged after every " + (k == 1 ? "step" : k + " steps"));
            return spark;
        }
        return StepRunner.forWorkers(config.run().workers(), config.run().engineChoice(), notes);
    }

    private static String describe(ComputationGraph net, int res) {
        return String.format(Locale.ROOT, "%,d parameters at %dx%d", net.numParams(), res, res);
    }

    private ImageBatches evalBatches(ImageFolder folder, int res, SkippedImages skipped) {
        DataConfig dc = config.data();
        ImageBatches b = new ImageBatches(folder, SampleTransform.of(new EvalTransform(res, res,
                dc.evalCropFraction())), res, res, dc.batchSize(), false, 0, dc.workers(), dc.prefetch(), 0,
                skipped);
        b.setPreProcessor(ImageNetPreprocessing.normalizer());
        return b;
    }

    /** Seed of the network's random numbers (dropout, drop-path) for one iteration. */
    static long iterationSeed(long seed, long iteration) {
        long z = seed * 0x9E3779B97F4A7C15L + iteration * 0xD1B54A32D192ED03L;
        z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL;
        return z ^ (z >>> 33);
    }

    /** One run's mutable state and steps. */
    private final class Loop {
        private final ComputationGraph net;
        private final WeightAverage average;
        private final List<EpochMetrics> history;
        private final ImageBatches train;
        private final ImageBatches val;
        private final WarmupSchedule schedule;
        private final CheckpointStore store;
        private final SkippedImages skipped;
        private final Map<String, String> description;
        private final List<String> classes;
        private final String configYaml;
        private TrainerState state;
        private Path lastCheckpoint;
        private EvalResult lastValidation;
        private final StepRunner runner;

        Loop(ComputationGraph net, WeightAverage average, TrainerState state, List<EpochMetrics> history,
                ImageBatches train, ImageBatches val, WarmupSchedule schedule, CheckpointStore store,
                SkippedImages skipped, Map<String, String> description, List<String> classes, String configYaml,
                StepRunner runner) {
            this.runner = runner;
            this.net = net;
            this.average = average;
            this.state = state;
            this.history = history;
            this.train = train;
            this.val = val;
            this.schedule = schedule;
            this.store = store;
            this.skipped = skipped;
            this.description = description;
            this.classes = classes;
            this.configYaml = configYaml;
        }

        Outcome loop() throws IOException {
            int epochs = config.run().epochs();
            long seed = config.run().seed();
            int every = config.run().checkpointEvery();
            Integer stopAfter = config.run().stopAfterIterations();
            while (state.epoch() < epochs) {
                int epoch = state.epoch();
                net.getConfiguration().setEpochCount(epoch);
                train.startEpoch(epoch, state.batchesDone());
                long started = System.nanoTime();
                long images = 0;
                try (EpochProgress bar = EpochProgress.open("epoch " + (epoch + 1) + "/" + epochs,
                        train.batchesPerEpoch(), state.batchesDone(), progressBars)) {
                    while (train.hasNext()) {
                        List<ImageBatches.Batch> group = nextBatches(stopAfter);
                        Nd4j.getRandom().setSeed(iterationSeed(seed, state.iteration()));
                        double[] losses = runner.steps(net, group);
                        for (double loss : losses) {
                            if (!Double.isFinite(loss)) {
                                throw diverged("the loss is " + loss, epoch);
                            }
                        }
                        // the loss comes from the forward pass before the update: the update itself can overflow
                        double weights = net.params().sumNumber().doubleValue();
                        if (!Double.isFinite(weights)) {
                            throw diverged("the weights are non-finite after the update (loss "
                                    + losses[losses.length - 1] + ")", epoch);
                        }
                        long before = state.iteration();
                        for (int i = 0; i < group.size(); i++) {
                            if (average != null) {
                                average.update(net);
                            }
                            state = state.afterBatch(losses[i], group.get(i).size());
                            images += group.get(i).size();
                            listener.iterationDone(state.iteration(), losses[i]);
                        }
                        double seconds = (System.nanoTime() - started) / 1e9;
                        bar.update(state.batchesDone(), String.format(Locale.ROOT, "loss %.4f lr %.3g %.1f img/s",
                                state.meanLoss(), lr(), images / Math.max(seconds, 1e-9)));
                        if (every > 0 && state.iteration() / every > before / every) {
                            checkpoint();
                        }
                        String stop = stopRequested != null ? stopRequested
                                : stopAfter != null && state.iteration() >= stopAfter ? "run.stop_after_iterations"
                                : null;
                        if (stop != null) {
                            checkpoint();
                            console.accept("stopped (" + stop + ") after " + state.iteration() + " iterations; "
                                    + "checkpoint " + lastCheckpoint + "; continue with: bin/efficientnet train "
                                    + "--resume " + output);
                            return new Outcome(List.copyOf(history), lastValidation, false, skipped.count(), state);
                        }
                    }
                }
                endEpoch(images, (System.nanoTime() - started) / 1e9);
            }
            Path finalModel = output.resolve("model-final.zip");
            saveModel(finalModel);
            console.accept("saved " + finalModel + (skipped.count() > 0 ? "; skipped " + skipped.count()
                    + " unreadable images" : ""));
            return new Outcome(List.copyOf(history), lastValidation, true, skipped.count(), state);
        }

        /**
         * The next batches of the epoch for one call of the runner ({@link StepRunner#batchesPerCall()}), no more than
         * {@code run.stop_after_iterations} leaves.
         */
        private List<ImageBatches.Batch> nextBatches(Integer stopAfter) {
            long size = runner.batchesPerCall();
            if (stopAfter != null) {
                size = Math.max(1, Math.min(size, stopAfter - state.iteration()));
            }
            List<ImageBatches.Batch> group = new ArrayList<>();
            while (group.size() < size && train.hasNext()) {
                group.add(train.nextBatch());
            }
            return group;
        }

        private void endEpoch(long images, double seconds) throws IOException {
            int epoch = state.epoch();
            EvalResult v = null;
            if (val != null) {
                val.startEpoch(0, 0);
                v = withAverage(() -> {
                    try (InferenceSession session = Engines.inference(net, config.run().engineChoice(), notes)) {
                        return Evaluator.evaluate(session::output, val, classes, null);
                    }
                });
                lastValidation = v;
            }
            EpochMetrics m = new EpochMetrics(epoch + 1, state.meanLoss(), v == null ? Double.NaN : v.loss(),
                    v == null ? Double.NaN : v.top1(), v == null ? Double.NaN : v.top5(), lr(),
                    images / Math.max(seconds, 1e-9));
            history.add(m);
            MetricsLog.write(output.resolve("metrics.csv"), history);
            TrainingCurves.write(output.resolve("training-curves.png"), history);
            boolean best = v != null && (Double.isNaN(state.bestTop1()) || v.top1() > state.bestTop1());
            state = state.nextEpoch(v == null ? Double.NaN : v.top1(), best, skipped.count());
            if (best) {
                saveModel(output.resolve("model-best.zip"));
            }
            checkpoint();
            console.accept(m.summary(config.run().epochs()) + (best ? " (best so far)" : ""));
            listener.epochDone(m);
        }

        private double lr() {
            return schedule.valueAt((int) Math.min(Integer.MAX_VALUE, state.iteration()), state.epoch());
        }

        private void checkpoint() throws IOException {
            lastCheckpoint = store.save(net, average, state, history, description, configYaml);
        }

        private void saveModel(Path file) throws IOException {
            withAverage(() -> {
                ModelZip.write(net, file, false, ImageNetPreprocessing.normalizer(), description);
                return null;
            });
        }

        private <T> T withAverage(java.util.concurrent.Callable<T> work) throws IOException {
            try {
                return average == null ? work.call() : average.withAverage(net, work);
            } catch (IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        private TrainingDivergedException diverged(String what, int epoch) {
            return TrainingDivergedException.at(what, epoch, state.iteration() + 1, lr(), lastCheckpoint, output);
        }
    }
}
