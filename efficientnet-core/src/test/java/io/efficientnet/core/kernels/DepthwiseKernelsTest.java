package io.efficientnet.core.kernels;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link DepthwiseKernels#weightGradient} against the defining sum evaluated in double precision, tap by tap, on sizes
 * that are not multiples of any vector length (planes below one vector, tails, planes narrower than the padding,
 * large planes split over threads).
 */
@Tag("numeric")
class DepthwiseKernelsTest {

    /** {@code dW[ky, kx, c] = Σ_n Σ_y Σ_x dZ[n, c, y, x]·X[n, c, y + ky − p, x + kx − p]} and {@code Σ|…|}. */
    private static double[][] reference(INDArray x, INDArray dz, int k) {
        int p = (k - 1) / 2;
        return reference(x, dz, k, 1, p, p);
    }

    /**
     * {@code dW[ky, kx, c] = Σ_n Σ_oy Σ_ox dZ[n, c, oy, ox]·X[n, c, s·oy + ky − top, s·ox + kx − left]} and
     * {@code Σ|…|}.
     */
    private static double[][] reference(INDArray x, INDArray dz, int k, int s, int top, int left) {
        int n = (int) x.size(0);
        int c = (int) x.size(1);
        int h = (int) x.size(2);
        int w = (int) x.size(3);
        int oh = (int) dz.size(2);
        int ow = (int) dz.size(3);
        float[] xs = x.data().asFloat();
        float[] zs = dz.data().asFloat();
        double[] sum = new double[k * k * c];
        double[] abs = new double[k * k * c];
        for (int e = 0; e < n; e++) {
            for (int ch = 0; ch < c; ch++) {
                int base = (e * c + ch) * h * w;
                int zBase = (e * c + ch) * oh * ow;
                for (int ky = 0; ky < k; ky++) {
                    for (int kx = 0; kx < k; kx++) {
                        int t = (ky * k + kx) * c + ch;
                        for (int y = 0; y < oh; y++) {
                            int sy = s * y + ky - top;
                            if (sy < 0 || sy >= h) {
                                continue;
                            }
                            for (int xx = 0; xx < ow; xx++) {
                                int sx = s * xx + kx - left;
                                if (sx < 0 || sx >= w) {
                                    continue;
                                }
                                double term = (double) zs[zBase + y * ow + xx] * xs[base + sy * w + sx];
                                sum[t] += term;
                                abs[t] += Math.abs(term);
                            }
                        }
                    }
                }
            }
        }
        return new double[][] {sum, abs};
    }

    /**
     * Every product passes through at most m float roundings: one chain per vector lane ({@code plane/L} fma), the
     * lane reduction and the scalar tail (under L each), and the sum over the n examples. Products are exact inside
     * an fma, so |error| <= γ_m·Σ|terms| with γ_m = m·u/(1 − m·u), u = 2^-24 (Higham, Accuracy and Stability of
     * Numerical Algorithms, 3.1). A wrong shift, tap or lane would be off by about √(Σ terms²), far above it.
     */
    private static void assertMatches(double[][] ref, float[] got, int c, int k, int n, int plane) {
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        double m = (double) plane / lanes + 2 * lanes + n;
        double u = Math.ulp(1f) / 2;
        double gamma = m * u / (1 - m * u);
        for (int t = 0; t < got.length; t++) {
            int ch = t % c;
            int tap = t / c;
            assertEquals(ref[0][t], got[t], gamma * ref[1][t],
                    "dW[" + tap / k + ", " + tap % k + ", " + ch + "] (" + lanes + " float lanes)");
        }
    }

    @ParameterizedTest(name = "n={0} c={1} h={2} w={3} k={4}")
    @CsvSource({
            "1, 1, 1, 1, 5",
            "2, 3, 1, 7, 5",
            "2, 5, 3, 3, 5",
            "3, 4, 5, 7, 3",
            "1, 3, 2, 130, 5",
            "2, 6, 13, 11, 5",
            "1, 3, 17, 17, 7",
            "4, 16, 56, 57, 5",
            "2, 8, 112, 112, 5"})
    void weightGradientMatchesDoublePrecision(int n, int c, int h, int w, int k) {
        Nd4j.getRandom().setSeed(31L * h + w);
        INDArray x = Nd4j.randn(DataType.FLOAT, n, c, h, w).addi(0.5);
        INDArray dz = Nd4j.randn(DataType.FLOAT, n, c, h, w);
        INDArray dw = Nd4j.valueArrayOf(new long[] {k, k, c, 1}, Float.NaN, DataType.FLOAT);
        assertTrue(DepthwiseKernels.accepts(x, dz, dw));
        DepthwiseKernels.weightGradient(x, dz, dw, k);
        assertMatches(reference(x, dz, k), dw.data().asFloat(), c, k, n, h * w);
    }

    /**
     * The oneDNN training engine's entry: strides 1 to 3 with TensorFlow's "SAME" padding (more after than before,
     * as in B0's stride-2 5×5 layers), symmetric padding and none, on planes whose sides do not divide by the stride.
     */
    @ParameterizedTest(name = "n={0} c={1} h={2} w={3} k={4} stride={5} top={6} left={7}")
    @CsvSource({
            "2, 3, 56, 56, 5, 2, 1, 1",
            "1, 4, 13, 11, 5, 2, 2, 2",
            "2, 5, 14, 15, 5, 2, 1, 2",
            "1, 2, 9, 10, 7, 3, 2, 3",
            "2, 3, 12, 12, 5, 2, 0, 0",
            "3, 2, 7, 9, 5, 1, 2, 2",
            "1, 3, 3, 3, 5, 2, 1, 1"})
    void stridedWeightGradientMatchesDoublePrecision(int n, int c, int h, int w, int k, int stride, int top,
                                                      int left) {
        Nd4j.getRandom().setSeed(17L * h + w + stride);
        int oh = stride == 1 ? h + 2 * top - k + 1 : (h + stride - 1) / stride;
        int ow = stride == 1 ? w + 2 * left - k + 1 : (w + stride - 1) / stride;
        INDArray x = Nd4j.randn(DataType.FLOAT, n, c, h, w).addi(0.5);
        INDArray dz = Nd4j.randn(DataType.FLOAT, n, c, oh, ow);
        INDArray dw = Nd4j.valueArrayOf(new long[] {k, k, c, 1}, Float.NaN, DataType.FLOAT);
        DepthwiseKernels.weightGradient(DirectFloats.of(x), DirectFloats.of(dz), DirectFloats.of(dw), n, c, h, w, k,
                stride, top, left, oh, ow);
        assertMatches(reference(x, dz, k, stride, top, left), dw.data().asFloat(), c, k, n, oh * ow);
    }

    /** Channels are split over threads in fixed ranges and each sum taken in one order: the same bits either way. */
    @Test
    void resultsDoNotDependOnTheNumberOfThreads() throws Exception {
        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.randn(DataType.FLOAT, 4, 24, 40, 41);
        INDArray dz = Nd4j.randn(DataType.FLOAT, 4, 24, 40, 41);
        INDArray split = Nd4j.create(DataType.FLOAT, 5, 5, 24, 1);
        DepthwiseKernels.weightGradient(x, dz, split, 5);
        INDArray single = Nd4j.create(DataType.FLOAT, 5, 5, 24, 1);
        Thread t = new Thread(() -> {
            KernelThreads.callerOnly(true);
            DepthwiseKernels.weightGradient(x, dz, single, 5);
        });
        t.start();
        t.join();
        assertEquals(split, single);
    }

    @Test
    void acceptsOnlyDenseFloatArraysOfMatchingShapes() {
        INDArray x = Nd4j.create(DataType.FLOAT, 2, 3, 6, 7);
        INDArray dw = Nd4j.create(DataType.FLOAT, 5, 5, 3, 1);
        assertTrue(DepthwiseKernels.accepts(x, x.dup(), dw));
        assertFalse(DepthwiseKernels.accepts(x, Nd4j.create(DataType.FLOAT, 2, 3, 7, 6), dw), "other shape");
        assertFalse(DepthwiseKernels.accepts(x, x.dup(), Nd4j.create(DataType.FLOAT, 5, 5, 4, 1)), "other channels");
        assertFalse(DepthwiseKernels.accepts(x.castTo(DataType.DOUBLE), x.castTo(DataType.DOUBLE), dw), "double");
        assertFalse(DepthwiseKernels.accepts(x.permute(0, 1, 3, 2), x.permute(0, 1, 3, 2), dw), "strided view");
    }
}
