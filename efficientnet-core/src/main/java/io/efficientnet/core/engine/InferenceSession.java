package io.efficientnet.core.engine;

import org.nd4j.linalg.api.ndarray.INDArray;

/** A network opened for inference by {@link Engines#inference}; close it to release native memory. */
public interface InferenceSession extends AutoCloseable {

    /** The network's first output for {@code input} (NCHW, as the network takes it). */
    INDArray output(INDArray input);

    /** What runs, e.g. {@code oneDNN 2.5.2 (avx512_core_bf16)} or {@code DL4J}. */
    String description();

    @Override
    void close();
}
