package io.efficientnet.core.kernels;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The squeeze-excitation scaling {@code out[n,c,h,w] = x[n,c,h,w]·g[n,c]} and its gradients in one pass each way over
 * dense float32 NCHW arrays, vectorised with the JDK's Vector API and split over the cores. ND4J needs a broadcast
 * multiply forward, and backward a broadcast multiply, an element-wise product into a new array and a
 * reduction over H and W. Available exactly when {@link SwishKernels#available()} is; callers check {@link #accepts}.
 */
public final class ChannelScaleKernels {

    private ChannelScaleKernels() {
    }

    /** Whether the feature arrays are dense float32 CPU memory of rank 4 with the same shape and c order. */
    public static boolean accepts(INDArray... features) {
        return BatchNormKernels.accepts(features);
    }

    /** {@code out = x·gate[n·C + c]} per feature map. */
    public static void forward(INDArray x, INDArray out, float[] gate) {
        VectorChannelScale.forward(DirectFloats.of(x), DirectFloats.of(out), rows(x), hw(x), gate);
    }

    /** {@code dx = dy·gate[n·C + c]}; returns {@code dL/dgate[n·C + c] = Σ_{h,w} dy·x}. */
    public static double[] backward(INDArray x, INDArray dy, INDArray dx, float[] gate) {
        double[] dGate = new double[rows(x)];
        VectorChannelScale.backward(DirectFloats.of(x), DirectFloats.of(dy), DirectFloats.of(dx), rows(x), hw(x),
                gate, dGate);
        return dGate;
    }

    /** Every element of feature map {@code n·C + c} of {@code out} set to {@code value[n·C + c]}. */
    public static void fillMaps(INDArray out, float[] value) {
        VectorChannelScale.fillRows(DirectFloats.of(out), rows(out), hw(out), value);
    }

    private static int rows(INDArray x) {
        return Math.toIntExact(x.size(0) * x.size(1));
    }

    private static int hw(INDArray x) {
        return Math.toIntExact(x.size(2) * x.size(3));
    }
}
