package io.efficientnet.train.step;

import io.efficientnet.core.engine.Engine;
import io.efficientnet.train.data.ImageBatches;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.util.List;
import java.util.function.Consumer;

/**
 * How one batch becomes an update of the network — the only thing that differs between training on one device,
 * data-parallel training on several devices and training on a Spark cluster; the loop, recipe, data and checkpoints
 * are shared ({@code Trainer}).
 */
public interface StepRunner extends AutoCloseable {

    /** Trains {@code net} on {@code batch} (one optimizer step) and returns the minibatch loss. */
    double step(ComputationGraph net, ImageBatches.Batch batch);

    /**
     * How many consecutive batches one call of {@link #steps} takes at most: more than 1 where replicas take several
     * steps on their own between two averagings ({@code spark.averaging_frequency}).
     */
    default int batchesPerCall() {
        return 1;
    }

    /**
     * Trains {@code net} on consecutive batches of one epoch (at most {@link #batchesPerCall()}), one optimizer step
     * each, and returns each batch's loss.
     */
    default double[] steps(ComputationGraph net, List<ImageBatches.Batch> batches) {
        double[] losses = new double[batches.size()];
        for (int i = 0; i < losses.length; i++) {
            losses[i] = step(net, batches.get(i));
        }
        return losses;
    }

    /**
     * Whether batches come decoded from the driver's data threads (true) or the runner reads the batch's images
     * itself (false: Spark executors).
     */
    default boolean decodesOnDriver() {
        return true;
    }

    @Override
    default void close() {
    }

    /**
     * One device: each step through {@code engine} ({@link io.efficientnet.core.engine.Engines#training}); {@code notes}
     * hears what runs the steps, and why {@link Engine#AUTO} chose DL4J if it did, each time a session opens (the
     * first step, and again for another network, e.g. after a restore).
     */
    static StepRunner single(Engine engine, Consumer<String> notes) {
        return new EngineStepRunner(engine, notes);
    }

    /**
     * {@code workers} replicas, one per device (DL4J's {@code ParallelWrapper}, parameters averaged every step); 1
     * means {@link #single} on {@code engine}.
     */
    static StepRunner forWorkers(int workers, Engine engine, Consumer<String> notes) {
        return workers == 1 ? single(engine, notes) : new ParallelStepRunner(workers);
    }
}
