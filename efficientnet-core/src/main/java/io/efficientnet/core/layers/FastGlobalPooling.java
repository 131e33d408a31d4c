package io.efficientnet.core.layers;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;

/**
 * DL4J's {@link GlobalPoolingLayer} configuration whose runtime ({@link FastGlobalPoolingLayer}) computes global
 * average pooling of dense float32 NCHW maps, and its gradient, in one vectorised pass; same results and JSON fields.
 */
public class FastGlobalPooling extends GlobalPoolingLayer {

    /** For JSON deserialization (DL4J's default: max pooling). */
    public FastGlobalPooling() {
        super();
    }

    /**
     * @param type     pooling type (only {@code AVG} has the fast path; others run DL4J's code)
     * @param collapse whether the output is {@code [N, C]} rather than {@code [N, C, 1, 1]}
     */
    public FastGlobalPooling(PoolingType type, boolean collapse) {
        super(type);
        setCollapseDimensions(collapse);
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> trainingListeners,
            int layerIndex, INDArray layerParamsView, boolean initializeParams, DataType networkDataType) {
        return RuntimeLayers.wire(new FastGlobalPoolingLayer(conf, networkDataType), this, conf, trainingListeners,
                layerIndex, layerParamsView, initializeParams);
    }

    @Override
    public FastGlobalPooling clone() {
        return (FastGlobalPooling) super.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FastGlobalPooling && super.equals(o);
    }

    @Override
    public int hashCode() {
        return 31 * super.hashCode() + 7;
    }

    /** Lombok's equality hook: a plain {@code GlobalPoolingLayer} never equals this one. */
    @Override
    protected boolean canEqual(Object other) {
        return other instanceof FastGlobalPooling;
    }
}
