package io.efficientnet.train.run;

import io.efficientnet.core.training.DirectFit;
import io.efficientnet.train.data.ImageBatches;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * How one batch becomes an update of the network — the only thing that differs between training on one device,
 * data-parallel training on several devices and training on a Spark cluster; the loop, recipe, data and checkpoints
 * are shared ({@link Trainer}).
 */
public interface StepRunner extends AutoCloseable {

    /** Trains {@code net} on {@code batch} (one optimizer step) and returns the minibatch loss. */
    double step(ComputationGraph net, ImageBatches.Batch batch);

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
     * One device: {@code net.fit(batch)}, through {@link DirectFit} (the same step, bit for bit, with DL4J's updater on
     * the views it prepared once instead of re-slicing every parameter on every step).
     */
    static StepRunner single() {
        return new StepRunner() {
            private DirectFit fit;
            private ComputationGraph fitted;

            @Override
            public double step(ComputationGraph net, ImageBatches.Batch batch) {
                if (fit == null || fitted != net) {
                    fit = DirectFit.of(net);
                    fitted = net;
                }
                return fit.fit(batch.data());
            }
        };
    }

    /** {@code workers} replicas (one per device); 1 means {@link #single()}. */
    static StepRunner forWorkers(int workers) {
        return workers == 1 ? single() : new ParallelStepRunner(workers);
    }
}
