package io.efficientnet.core.layers;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.LayerValidation;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;

/**
 * DL4J's 2-D {@link ConvolutionLayer} configuration with a leaner backward pass ({@link FastConvolution2DLayer}):
 * same parameters, forward pass, results and JSON fields. Everything that looks for a {@code ConvolutionLayer}
 * (Keras weight import, batch-norm folding) treats it as one.
 */
public class FastConvolution2D extends ConvolutionLayer {

    /** For JSON deserialization. */
    public FastConvolution2D() {
        super();
    }

    /** The configuration {@code builder.build()} would give, with the leaner runtime layer. */
    public FastConvolution2D(ConvolutionLayer.Builder builder) {
        super(builder);
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> trainingListeners,
            int layerIndex, INDArray layerParamsView, boolean initializeParams, DataType networkDataType) {
        LayerValidation.assertNInNOutSet("FastConvolution2D", getLayerName(), layerIndex, getNIn(), getNOut());
        return RuntimeLayers.wire(new FastConvolution2DLayer(conf, networkDataType), this, conf, trainingListeners,
                layerIndex, layerParamsView, initializeParams);
    }

    @Override
    public FastConvolution2D clone() {
        return (FastConvolution2D) super.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FastConvolution2D && super.equals(o);
    }

    @Override
    public int hashCode() {
        return 31 * super.hashCode() + 5;
    }

    /** Lombok's equality hook: a plain {@code ConvolutionLayer} never equals this one. */
    @Override
    protected boolean canEqual(Object other) {
        return other instanceof FastConvolution2D;
    }
}
