package io.efficientnet.core.layers;

import io.efficientnet.core.kernels.SwishKernels;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.BaseActivationFunction;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Swish;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Swish {@code x·σ(x)} with a derivative that stays finite in float32. DL4J 1.0.0-M2.1's {@code Activation.SWISH}
 * computes the derivative as {@code eˣ(x + eˣ + 1) / (eˣ + 1)²}, which is ∞/∞ = NaN for x ≳ 44 in float32; a trained
 * network reaches such inputs (e.g. in the squeeze-excitation reduce layer) and the whole gradient turns NaN. Here the
 * derivative is {@code σ(x)·(1 + x·(1 − σ(x)))}. Dense float32 arrays on the CPU go through {@link SwishKernels} (one
 * vectorised pass each way) when the JVM has the Vector API module; otherwise the forward pass is ND4J's native swish op
 * and the derivative a few ND4J operations.
 */
public class StableSwish extends BaseActivationFunction {

    @Override
    public INDArray getActivation(INDArray in, boolean training) {
        if (!SwishKernels.forwardInPlace(in)) {
            Nd4j.getExecutioner().execAndReturn(new Swish(in));
        }
        return in;
    }

    @Override
    public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
        assertShape(in, epsilon);
        if (SwishKernels.backwardInPlace(in, epsilon)) {
            return new Pair<>(in, null);
        }
        INDArray s = Transforms.sigmoid(in, true);
        // d = s * (1 + x * (1 - s)), then dL/dx = d * eps, written into `in` as DL4J's activations do
        INDArray d = s.rsub(1.0).muli(in).addi(1.0).muli(s);
        in.assign(d.muli(epsilon));
        return new Pair<>(in, null);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StableSwish;
    }

    @Override
    public int hashCode() {
        return StableSwish.class.hashCode();
    }

    @Override
    public String toString() {
        return "swish";
    }
}
