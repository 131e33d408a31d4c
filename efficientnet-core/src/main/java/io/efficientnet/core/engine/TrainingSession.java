package io.efficientnet.core.engine;

import org.nd4j.linalg.dataset.api.DataSet;

/**
 * A network opened for training by {@link Engines#training}: each {@link #fit} is one optimizer step of the network's
 * own updater, written into the network's parameters. Close it to release native memory.
 */
public interface TrainingSession extends AutoCloseable {

    /** One step on {@code batch} (features NCHW, one-hot labels); returns the minibatch loss. */
    double fit(DataSet batch);

    /** What runs, e.g. {@code oneDNN 2.5.2 (avx512_core_bf16)} or {@code DL4J}. */
    String description();

    @Override
    void close();
}
