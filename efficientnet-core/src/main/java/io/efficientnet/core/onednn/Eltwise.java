package io.efficientnet.core.onednn;

import io.efficientnet.core.layers.StableSwish;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSwish;
import org.nd4j.linalg.activations.impl.ActivationTanH;

/** An element-wise activation the engine runs as a oneDNN eltwise (post-op or primitive). */
public enum Eltwise {
    /** No activation. */
    NONE,
    /** {@code x·σ(x)}. */
    SWISH,
    /** {@code σ(x)}. */
    SIGMOID,
    /** {@code max(0, x)}. */
    RELU,
    /** {@code min(max(0, x), 6)}. */
    RELU6,
    /** {@code tanh(x)}. */
    TANH;

    /**
     * The eltwise of a DL4J activation function.
     *
     * @param layer for the error message
     * @throws IllegalArgumentException for activations the engine has no eltwise for
     */
    public static Eltwise of(IActivation fn, String layer) {
        if (fn == null || fn instanceof ActivationIdentity) {
            return NONE;
        }
        if (fn instanceof StableSwish || fn instanceof ActivationSwish) {
            return SWISH;
        }
        if (fn instanceof ActivationSigmoid) {
            return SIGMOID;
        }
        if (fn instanceof ActivationReLU && fn.equals(new ActivationReLU())) { // max(0, x): no cap, threshold or slope
            return RELU;
        }
        if (fn instanceof ActivationReLU6) {
            return RELU6;
        }
        if (fn instanceof ActivationTanH) {
            return TANH;
        }
        throw new IllegalArgumentException("layer '" + layer + "': activation " + fn
                + " has no oneDNN eltwise here (supported: identity, swish, sigmoid, relu, relu6, tanh)");
    }
}
