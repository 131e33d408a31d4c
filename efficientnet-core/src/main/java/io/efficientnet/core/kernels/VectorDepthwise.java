package io.efficientnet.core.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

/**
 * The Vector API loop behind {@link DepthwiseKernels}; loaded only when {@code jdk.incubator.vector} is present.
 *
 * <p>Weight gradient of a stride-1 depthwise convolution with symmetric zero padding {@code p = (k − 1) / 2}:
 * {@code dW[ky, kx, c] = Σ_n Σ_y Σ_x dZ[n, c, y, x] · X[n, c, y + ky − p, x + kx − p]}. For every plane
 * {@code (n, c)} the input is copied, once per column offset {@code kx}, into a zero-padded buffer of
 * {@code (H + 2p) × W} values shifted by {@code kx − p} columns, so each tap is one contiguous dot product of length
 * {@code H·W} between the gradient plane and the buffer starting at row {@code ky}. Channels are split over the
 * cores; each channel's sum over examples is accumulated in a fixed order, so results do not depend on threads.
 */
final class VectorDepthwise {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();

    private VectorDepthwise() {
    }

    /**
     * @param x  input {@code [n, c, h, w]}
     * @param dz output gradient {@code [n, c, h, w]}
     * @param dw weight gradient {@code [k, k, c]} (DL4J's {@code [kH, kW, nIn, 1]}), overwritten
     */
    static void weightGradient(ByteBuffer x, ByteBuffer dz, ByteBuffer dw, int n, int c, int h, int w, int k) {
        int p = (k - 1) / 2;
        int paddedRows = h + 2 * p;
        FloatBuffer fx = x.asFloatBuffer();
        FloatBuffer fz = dz.asFloatBuffer();
        Parallel.forRows(c, n * h * w * k, (from, to) -> {
            float[] shifted = new float[k * paddedRows * w];
            float[] plane = new float[h * w];
            float[] taps = new float[k * k];
            for (int ch = from; ch < to; ch++) {
                java.util.Arrays.fill(taps, 0f);
                for (int e = 0; e < n; e++) {
                    int base = ((e * c) + ch) * h * w;
                    fillShifted(fx, base, h, w, k, p, shifted);
                    fz.get(base, plane, 0, h * w);
                    for (int ky = 0; ky < k; ky++) {
                        for (int kx = 0; kx < k; kx++) {
                            taps[ky * k + kx] += dot(plane, shifted, (kx * paddedRows + ky) * w, h * w);
                        }
                    }
                }
                for (int t = 0; t < k * k; t++) {
                    dw.putFloat(4 * (t * c + ch), taps[t]);
                }
            }
        });
    }

    /** {@code shifted[kx][r][x] = X[r − p, x + kx − p]}, zero outside the plane. */
    private static void fillShifted(FloatBuffer x, int base, int h, int w, int k, int p, float[] shifted) {
        int paddedRows = h + 2 * p;
        java.util.Arrays.fill(shifted, 0f);
        for (int kx = 0; kx < k; kx++) {
            int shift = kx - p;
            int xFrom = Math.max(0, -shift);
            int xTo = Math.min(w, w - shift);
            for (int y = 0; y < h; y++) {
                int dst = (kx * paddedRows + y + p) * w;
                int src = base + y * w + shift;
                if (xTo > xFrom) {
                    x.get(src + xFrom, shifted, dst + xFrom, xTo - xFrom);
                }
            }
        }
    }

    private static float dot(float[] a, float[] b, int bOffset, int len) {
        int i = 0;
        float sum = 0f;
        int upper = SPECIES.loopBound(len);
        if (upper > 0) {
            FloatVector acc = FloatVector.fromArray(SPECIES, a, 0).mul(FloatVector.fromArray(SPECIES, b, bOffset));
            for (i = LANES; i < upper; i += LANES) {
                acc = FloatVector.fromArray(SPECIES, a, i).fma(FloatVector.fromArray(SPECIES, b, bOffset + i), acc);
            }
            sum = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < len; i++) {
            sum = Math.fma(a[i], b[bOffset + i], sum);
        }
        return sum;
    }
}
