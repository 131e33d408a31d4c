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
        int n = (int) x.size(0);
        int c = (int) x.size(1);
        int h = (int) x.size(2);
        int w = (int) x.size(3);
        int p = (k - 1) / 2;
        float[] xs = x.data().asFloat();
        float[] zs = dz.data().asFloat();
        double[] sum = new double[k * k * c];
        double[] abs = new double[k * k * c];
        for (int e = 0; e < n; e++) {
            for (int ch = 0; ch < c; ch++) {
                int base = (e * c + ch) * h * w;
                for (int ky = 0; ky < k; ky++) {
                    for (int kx = 0; kx < k; kx++) {
                        int t = (ky * k + kx) * c + ch;
                        for (int y = 0; y < h; y++) {
                            int sy = y + ky - p;
                            if (sy < 0 || sy >= h) {
                                continue;
                            }
                            for (int xx = 0; xx < w; xx++) {
                                int sx = xx + kx - p;
                                if (sx < 0 || sx >= w) {
                                    continue;
                                }
                                double term = (double) zs[base + y * w + xx] * xs[base + sy * w + sx];
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
        double[][] ref = reference(x, dz, k);
        // Every product passes through at most m float roundings: one chain per vector lane (hw/L fma), the lane
        // reduction and the scalar tail (under L each), and the sum over the n examples. Products are exact inside an
        // fma, so |error| <= γ_m·Σ|terms| with γ_m = m·u/(1 − m·u), u = 2^-24 (Higham, Accuracy and Stability of
        // Numerical Algorithms, 3.1). A wrong shift, tap or lane would be off by about √(Σ terms²), far above it.
        int lanes = FloatVector.SPECIES_PREFERRED.length();
        double m = (double) h * w / lanes + 2 * lanes + n;
        double u = Math.ulp(1f) / 2;
        double gamma = m * u / (1 - m * u);
        float[] got = dw.data().asFloat();
        for (int t = 0; t < got.length; t++) {
            int ch = t % c;
            int tap = t / c;
            assertEquals(ref[0][t], got[t], gamma * ref[1][t],
                    "dW[" + tap / k + ", " + tap % k + ", " + ch + "] (" + lanes + " float lanes)");
        }
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
