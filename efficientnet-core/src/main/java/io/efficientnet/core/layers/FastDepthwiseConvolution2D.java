package io.efficientnet.core.layers;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.LayerValidation;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;

/**
 * DL4J's {@link DepthwiseConvolution2D} configuration with a faster backward pass
 * ({@link FastDepthwiseConvolution2DLayer}): same parameters, forward pass, results and JSON fields. Everything that
 * looks for a {@code DepthwiseConvolution2D} (Keras weight import, batch-norm folding) treats it as one.
 */
public class FastDepthwiseConvolution2D extends DepthwiseConvolution2D {

    /** For JSON deserialization. */
    public FastDepthwiseConvolution2D() {
        super();
    }

    /** The configuration {@code builder.build()} would give, with the faster runtime layer. */
    public FastDepthwiseConvolution2D(DepthwiseConvolution2D.Builder builder) {
        super(builder);
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> trainingListeners,
            int layerIndex, INDArray layerParamsView, boolean initializeParams, DataType networkDataType) {
        LayerValidation.assertNInNOutSet("FastDepthwiseConvolution2D", getLayerName(), layerIndex, getNIn(),
                getNOut());
        return RuntimeLayers.wire(new FastDepthwiseConvolution2DLayer(conf, networkDataType), this, conf,
                trainingListeners, layerIndex, layerParamsView, initializeParams);
    }

    @Override
    public FastDepthwiseConvolution2D clone() {
        return (FastDepthwiseConvolution2D) super.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FastDepthwiseConvolution2D && super.equals(o);
    }

    @Override
    public int hashCode() {
        return 31 * super.hashCode() + 3;
    }

    /** Lombok's equality hook: a plain {@code DepthwiseConvolution2D} never equals this one. */
    @Override
    protected boolean canEqual(Object other) {
        return other instanceof FastDepthwiseConvolution2D;
    }
}
