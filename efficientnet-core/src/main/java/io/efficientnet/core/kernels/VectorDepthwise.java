package io.efficientnet.core.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

/**
 * The Vector API loop behind {@link DepthwiseKernels}; loaded only when {@code jdk.incubator.vector} is present.
 *
 * <p>Weight gradient of a depthwise convolution with stride {@code s} and zero padding {@code (top, left)}:
 * {@code dW[ky, kx, c] = Σ_n Σ_oy Σ_ox dZ[n, c, oy, ox] · X[n, c, s·oy + ky − top, s·ox + kx − left]}. For every plane
 * {@code (n, c)} the input is copied once into buffers indexed by column tap {@code kx} and row phase
 * {@code ky mod s}: {@code B[kx][ph][r][ox] = X[s·r + ph − top, s·ox + kx − left]} (zero outside the plane), so each
 * tap is one contiguous dot product of length {@code OH·OW} between the gradient plane and the buffer
 * {@code B[kx][ky mod s]} starting at row {@code ⌊ky / s⌋}. Channels are split over the cores; each channel's sum over
 * examples is accumulated in a fixed order, so results do not depend on threads.
 */
final class VectorDepthwise {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();

    private VectorDepthwise() {
    }

    /**
     * @param x  input {@code [n, c, h, w]}
     * @param dz output gradient {@code [n, c, oh, ow]}
     * @param dw weight gradient {@code [k, k, c]} (DL4J's {@code [kH, kW, nIn, 1]}), overwritten
     */
    static void weightGradient(ByteBuffer x, ByteBuffer dz, ByteBuffer dw, int n, int c, int h, int w, int k,
                               int stride, int top, int left, int oh, int ow) {
        int rows = oh + (k - 1) / stride;
        FloatBuffer fx = x.asFloatBuffer();
        FloatBuffer fz = dz.asFloatBuffer();
        Parallel.forRows(c, n * oh * ow * k * k, (from, to) -> {
            float[] buffers = new float[k * stride * rows * ow];
            float[] plane = new float[oh * ow];
            float[] row = new float[w];
            float[] taps = new float[k * k];
            for (int ch = from; ch < to; ch++) {
                java.util.Arrays.fill(taps, 0f);
                for (int e = 0; e < n; e++) {
                    fillBuffers(fx, ((e * c) + ch) * h * w, h, w, k, stride, top, left, rows, ow, row, buffers);
                    fz.get(((e * c) + ch) * oh * ow, plane, 0, oh * ow);
                    for (int ky = 0; ky < k; ky++) {
                        for (int kx = 0; kx < k; kx++) {
                            int offset = ((kx * stride + ky % stride) * rows + ky / stride) * ow;
                            taps[ky * k + kx] += dot(plane, buffers, offset, oh * ow);
                        }
                    }
                }
                for (int t = 0; t < k * k; t++) {
                    dw.putFloat(4 * (t * c + ch), taps[t]);
                }
            }
        });
    }

    /** {@code B[kx][ph][r][ox] = X[s·r + ph − top, s·ox + kx − left]}, zero outside the plane. */
    private static void fillBuffers(FloatBuffer x, int base, int h, int w, int k, int s, int top, int left, int rows,
                                    int ow, float[] row, float[] buffers) {
        java.util.Arrays.fill(buffers, 0f);
        for (int ph = 0; ph < s; ph++) {
            for (int r = 0; r < rows; r++) {
                int y = s * r + ph - top;
                if (y < 0 || y >= h) {
                    continue;
                }
                x.get(base + y * w, row, 0, w);
                for (int kx = 0; kx < k; kx++) {
                    int dst = ((kx * s + ph) * rows + r) * ow;
                    int shift = kx - left;
                    // columns ox with 0 ≤ s·ox + shift < w
                    int oxFrom = shift >= 0 ? 0 : (-shift + s - 1) / s;
                    int oxTo = Math.min(ow, w - shift <= 0 ? 0 : (w - shift + s - 1) / s);
                    if (s == 1) {
                        if (oxTo > oxFrom) {
                            System.arraycopy(row, oxFrom + shift, buffers, dst + oxFrom, oxTo - oxFrom);
                        }
                    } else {
                        for (int ox = oxFrom; ox < oxTo; ox++) {
                            buffers[dst + ox] = row[s * ox + shift];
                        }
                    }
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
