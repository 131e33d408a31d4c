package io.efficientnet.core.kernels;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.ByteBuffer;

/**
 * The weight gradient of a multiplier-1 depthwise convolution, for dense float32 NCHW data, with the JDK's Vector API
 * (DL4J's layers: stride 1, symmetric padding {@code (k − 1) / 2}; the oneDNN training engine: any stride and
 * padding). oneDNN computes this gradient for 5×5 kernels through its generic im2col + GEMM path, the largest single
 * cost of an EfficientNet-B0 training step (BENCHMARKS.md).
 * Available exactly when {@link SwishKernels#available()} is; callers check {@link #accepts}.
 */
public final class DepthwiseKernels {

    private DepthwiseKernels() {
    }

    /** Whether the arrays fit: dense float32, {@code x} and {@code dz} of one NCHW shape, {@code dw} {@code [k,k,C,1]}. */
    public static boolean accepts(INDArray x, INDArray dz, INDArray dw) {
        return SwishKernels.available() && x.rank() == 4 && x.ordering() == 'c' && DirectFloats.sameLayout(x, dz)
                && dw.length() == dw.size(0) * dw.size(0) * x.size(1) && dw.ordering() == 'c'
                && (long) x.size(1) * x.size(2) * x.size(3) * x.size(0) < Integer.MAX_VALUE
                && DirectFloats.of(x) != null && DirectFloats.of(dz) != null && DirectFloats.of(dw) != null;
    }

    /**
     * The same for native buffers (native byte order) and any stride and padding: {@code x} dense NCHW
     * {@code [n, c, h, w]}, {@code dz} dense {@code [n, c, oh, ow]}, {@code dw} {@code [k, k, c]}, overwritten; zero
     * padding of {@code top} rows and {@code left} columns before the input (any padding after it follows from the
     * output size). Requires {@link SwishKernels#available()}.
     */
    public static void weightGradient(ByteBuffer x, ByteBuffer dz, ByteBuffer dw, int n, int c, int h, int w, int k,
                                      int stride, int top, int left, int oh, int ow) {
        if (!SwishKernels.available()) {
            throw new IllegalStateException("the Vector API kernels are not available (--add-modules "
                    + "jdk.incubator.vector)");
        }
        VectorDepthwise.weightGradient(x, dz, dw, n, c, h, w, k, stride, top, left, oh, ow);
    }

    /** Writes {@code dL/dW} of a k×k depthwise convolution (stride 1, padding (k − 1)/2) into {@code dw}. */
    public static void weightGradient(INDArray x, INDArray dz, INDArray dw, int k) {
        ByteBuffer bx = DirectFloats.of(x);
        ByteBuffer bz = DirectFloats.of(dz);
        ByteBuffer bw = DirectFloats.of(dw);
        int p = (k - 1) / 2;
        VectorDepthwise.weightGradient(bx, bz, bw, (int) x.size(0), (int) x.size(1), (int) x.size(2),
                (int) x.size(3), k, 1, p, p, (int) x.size(2), (int) x.size(3));
    }
}
