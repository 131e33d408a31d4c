package io.efficientnet.train.run;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.DataSet;

/**
 * How one batch becomes an update of the network — the only thing that differs between training on one device and
 * data-parallel training; the loop, recipe, data and checkpoints are shared ({@link Trainer}).
 */
public interface StepRunner extends AutoCloseable {

    /** Trains {@code net} on {@code batch} (one optimizer step) and returns the minibatch loss. */
    double step(ComputationGraph net, DataSet batch);

    @Override
    default void close() {
    }

    /** One device: {@code net.fit(batch)}. */
    static StepRunner single() {
        return (net, batch) -> {
            net.fit(batch);
            return net.score();
        };
    }

    /** {@code workers} replicas (one per device); 1 means {@link #single()}. */
    static StepRunner forWorkers(int workers) {
        return workers == 1 ? single() : new ParallelStepRunner(workers);
    }
}
