package io.efficientnet.core.layers;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.LayerValidation;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;

/**
 * DL4J's {@link BatchNormalization} configuration with a faster runtime layer ({@link FastBatchNormalizationLayer}):
 * same parameters ({@code gamma, beta, mean, log10stdev}), same training and inference semantics, same JSON fields.
 * Everything that looks for a {@code BatchNormalization} (Keras weight import, batch-norm folding, parameter counts)
 * treats it as one. With {@link #isSwish() swish} set, the layer's output is {@code swish(BN(x))} (the
 * {@link StableSwish} that would otherwise follow as its own activation layer, fused into the batch norm's passes).
 */
public class FastBatchNormalization extends BatchNormalization {

    /** Whether swish is applied to the normalised output. */
    private boolean swish;

    /** DL4J's defaults (for JSON deserialization); set channels, ε and decay before use. */
    public FastBatchNormalization() {
        super();
    }

    /**
     * @param channels number of channels (nIn = nOut)
     * @param eps      ε added to the variance
     * @param decay    moving-average momentum of the running mean and variance (Keras' {@code momentum})
     */
    public FastBatchNormalization(int channels, double eps, double decay) {
        super();
        setNIn(channels);
        setNOut(channels);
        setEps(eps);
        setDecay(decay);
    }

    /**
     * @param channels number of channels (nIn = nOut)
     * @param eps      ε added to the variance
     * @param decay    moving-average momentum of the running mean and variance
     * @param swish    whether the output is {@code swish(BN(x))}
     */
    public FastBatchNormalization(int channels, double eps, double decay, boolean swish) {
        this(channels, eps, decay);
        this.swish = swish;
    }

    /** Whether the output is {@code swish(BN(x))} rather than {@code BN(x)}. */
    public boolean isSwish() {
        return swish;
    }

    /** Sets whether the output is {@code swish(BN(x))} (JSON property {@code swish}; absent = false). */
    public void setSwish(boolean swish) {
        this.swish = swish;
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> trainingListeners,
            int layerIndex, INDArray layerParamsView, boolean initializeParams, DataType networkDataType) {
        LayerValidation.assertNOutSet("FastBatchNormalization", getLayerName(), layerIndex, getNOut());
        return RuntimeLayers.wire(new FastBatchNormalizationLayer(conf, networkDataType), this, conf, trainingListeners,
                layerIndex, layerParamsView, initializeParams);
    }

    @Override
    public FastBatchNormalization clone() {
        return (FastBatchNormalization) super.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FastBatchNormalization f && f.swish == swish && super.equals(o);
    }

    @Override
    public int hashCode() {
        return 31 * super.hashCode() + (swish ? 2 : 1);
    }

    /** Lombok's equality hook: a plain {@code BatchNormalization} never equals this one. */
    @Override
    protected boolean canEqual(Object other) {
        return other instanceof FastBatchNormalization;
    }
}
