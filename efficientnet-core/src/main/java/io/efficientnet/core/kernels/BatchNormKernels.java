package io.efficientnet.core.kernels;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.ByteBuffer;

/**
 * Batch-normalization passes over dense float32 NCHW arrays, vectorised with the JDK's Vector API and split over the
 * cores, optionally with swish applied to the normalised values (forward) and its derivative folded into the gradient
 * (backward). Each pass reads its inputs once; ND4J needs one pass per elementary operation. Row {@code r} of the
 * {@code [N·C, H·W]} view is channel {@code r % C}; per-channel arguments are {@code float[C]}, per-row results
 * {@code double[N·C]}. Available exactly when {@link SwishKernels#available()} is; callers check {@link #accepts}.
 */
public final class BatchNormKernels {

    private BatchNormKernels() {
    }

    /** Whether every array is dense float32 CPU memory of rank 4 with the first one's shape and order. */
    public static boolean accepts(INDArray... arrays) {
        if (!SwishKernels.available() || arrays.length == 0 || arrays[0].rank() != 4
                || arrays[0].ordering() != 'c') {
            return false;
        }
        for (INDArray a : arrays) {
            if (!DirectFloats.sameLayout(arrays[0], a) || DirectFloats.of(a) == null) {
                return false;
            }
        }
        return true;
    }

    /** Per-row sums of {@code x}. */
    public static double[] rowSums(INDArray x) {
        double[] sums = new double[rows(x)];
        VectorBatchNorm.rowSums(buffer(x), rows(x), hw(x), sums);
        return sums;
    }

    /** Per-row {@code Σ(x − c)} into {@code sums} and {@code Σ(x − c)²} into {@code squares}, c per channel. */
    public static void centredRowMoments(INDArray x, float[] centre, double[] sums, double[] squares) {
        VectorBatchNorm.centredRowMoments(buffer(x), rows(x), hw(x), channels(x), centre, sums, squares);
    }

    /** {@code y = (x − mean)·scale + shift} per channel, then {@code swish} if asked. */
    public static void normalize(INDArray x, INDArray y, float[] mean, float[] scale, float[] shift, boolean swish) {
        VectorBatchNorm.normalize(buffer(x), buffer(y), rows(x), hw(x), channels(x), mean, scale, shift, swish);
    }

    /**
     * Per-row {@code Σg} into {@code sumG} and {@code Σg·(x − mean)} into {@code sumGx}, where {@code g = dy}, or with
     * {@code swish} the gradient at {@code z = (x − mean)·scale + shift}, {@code dy·σ(z)·(1 + z·(1 − σ(z)))}, which is
     * also written to {@code gOut} ({@code null} without swish).
     */
    public static void backwardSums(INDArray x, INDArray dy, INDArray gOut, float[] mean, float[] scale,
            float[] shift, boolean swish, double[] sumG, double[] sumGx) {
        VectorBatchNorm.backwardSums(buffer(x), buffer(dy), swish ? buffer(gOut) : null, rows(x), hw(x),
                channels(x), mean, scale, shift, swish, sumG, sumGx);
    }

    /** {@code dx = a·g + b·(x − mean) + k} per channel; {@code dx} may be {@code g}. */
    public static void backwardInput(INDArray x, INDArray g, INDArray dx, float[] mean, float[] a, float[] b,
            float[] k) {
        VectorBatchNorm.backwardInput(buffer(x), buffer(g), buffer(dx), rows(x), hw(x), channels(x), mean, a, b, k);
    }

    private static ByteBuffer buffer(INDArray a) {
        ByteBuffer b = DirectFloats.of(a);
        if (b == null) {
            throw new IllegalArgumentException("expected a dense float32 CPU array, got " + a.shapeInfoToString());
        }
        return b;
    }

    private static int rows(INDArray x) {
        return Math.toIntExact(x.size(0) * x.size(1));
    }

    private static int channels(INDArray x) {
        return (int) x.size(1);
    }

    private static int hw(INDArray x) {
        return Math.toIntExact(x.size(2) * x.size(3));
    }
}
