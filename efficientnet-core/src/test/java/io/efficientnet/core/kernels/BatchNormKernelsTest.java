package io.efficientnet.core.kernels;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link BatchNormKernels} against the same formulas evaluated in double precision, element by element. */
@Tag("numeric")
class BatchNormKernelsTest {

    /** Map sizes below one vector, with a scalar tail, several sum blocks, and large enough to be split by rows. */
    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of(new long[] {2, 3, 1, 1}, false),
                Arguments.of(new long[] {2, 3, 1, 2}, true),
                Arguments.of(new long[] {2, 3, 5, 7}, true),
                Arguments.of(new long[] {1, 4, 3, 3}, false),
                Arguments.of(new long[] {3, 5, 29, 31}, true),
                Arguments.of(new long[] {8, 40, 33, 33}, true),
                Arguments.of(new long[] {1, 2, 130, 131}, false));
    }

    private record Case(INDArray x, INDArray dy, float[] mean, float[] scale, float[] shift, int n, int c, int hw) {
        double x(int r, int i) {
            return x.getDouble((long) r * hw + i);
        }

        double dy(int r, int i) {
            return dy.getDouble((long) r * hw + i);
        }
    }

    private static Case newCase(long[] shape, long seed) {
        Nd4j.getRandom().setSeed(seed);
        int c = (int) shape[1];
        float[] mean = new float[c];
        float[] scale = new float[c];
        float[] shift = new float[c];
        java.util.Random random = new java.util.Random(seed);
        for (int j = 0; j < c; j++) {
            mean[j] = (float) random.nextGaussian();
            scale[j] = 0.5f + random.nextFloat();
            shift[j] = (float) random.nextGaussian();
        }
        INDArray x = Nd4j.randn(DataType.FLOAT, shape).muli(3).addi(0.25);
        INDArray dy = Nd4j.randn(DataType.FLOAT, shape);
        return new Case(x, dy, mean, scale, shift, (int) shape[0], c, (int) (shape[2] * shape[3]));
    }

    private static double swish(double z) {
        return z / (1 + Math.exp(-z));
    }

    private static double swishDerivative(double z) {
        double s = 1 / (1 + Math.exp(-z));
        return s * (1 + z * (1 - s));
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void sumsAndCentredMomentsMatchDoublePrecision(long[] shape, boolean unused) {
        Case t = newCase(shape, 1);
        int rows = t.n * t.c;
        double[] sums = BatchNormKernels.rowSums(t.x);
        double[] centredSums = new double[rows];
        double[] squares = new double[rows];
        BatchNormKernels.centredRowMoments(t.x, t.mean, centredSums, squares);
        for (int r = 0; r < rows; r++) {
            double s = 0;
            double cs = 0;
            double q = 0;
            double centre = t.mean[r % t.c];
            for (int i = 0; i < t.hw; i++) {
                s += t.x(r, i);
                cs += t.x(r, i) - centre;
                q += (t.x(r, i) - centre) * (t.x(r, i) - centre);
            }
            // float32 sums of hw terms of magnitude ≲ 4 (normal data): the lane-wise sums round by a few 2⁻²⁴ of
            // their magnitude (≤ 4·hw); 1e-6·4·hw is ~17 such roundings
            double tol = 1e-6 * t.hw * 4;
            assertEquals(s, sums[r], tol, "row sum " + r);
            assertEquals(cs, centredSums[r], tol, "centred sum " + r);
            assertEquals(q, squares[r], tol * Math.max(1, q / t.hw), "centred squares " + r);
        }
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void normalizeWithAndWithoutSwishMatchesDoublePrecision(long[] shape, boolean inPlace) {
        for (boolean swish : new boolean[] {false, true}) {
            Case t = newCase(shape, 2);
            INDArray y = inPlace ? t.x.dup() : Nd4j.createUninitialized(DataType.FLOAT, shape);
            BatchNormKernels.normalize(inPlace ? y : t.x, y, t.mean, t.scale, t.shift, swish);
            for (int r = 0; r < t.n * t.c; r++) {
                int c = r % t.c;
                for (int i = 0; i < t.hw; i++) {
                    double z = (t.x(r, i) - t.mean[c]) * t.scale[c] + t.shift[c];
                    double expected = swish ? swish(z) : z;
                    // a handful of float32 operations and an exp accurate to ~2 ulp: 2e-6 is ~32 roundings
                    assertEquals(expected, y.getDouble((long) r * t.hw + i), 2e-6 * Math.max(1, Math.abs(expected)),
                            "swish " + swish + ", row " + r + ", element " + i);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void backwardPassesMatchDoublePrecision(long[] shape, boolean unused) {
        for (boolean swish : new boolean[] {false, true}) {
            Case t = newCase(shape, 3);
            int rows = t.n * t.c;
            double[] sumG = new double[rows];
            double[] sumGx = new double[rows];
            INDArray dx = Nd4j.createUninitialized(DataType.FLOAT, shape);
            BatchNormKernels.backwardSums(t.x, t.dy, swish ? dx : null, t.mean, t.scale, t.shift, swish, sumG, sumGx);
            float[] a = new float[t.c];
            float[] b = new float[t.c];
            float[] k = new float[t.c];
            for (int j = 0; j < t.c; j++) {
                a[j] = 0.75f + j;
                b[j] = -0.5f / (j + 1);
                k[j] = 0.125f * j;
            }
            INDArray g = swish ? dx : t.dy;
            BatchNormKernels.backwardInput(t.x, g, dx, t.mean, a, b, k);
            for (int r = 0; r < rows; r++) {
                int c = r % t.c;
                double sg = 0;
                double sgx = 0;
                for (int i = 0; i < t.hw; i++) {
                    double xm = t.x(r, i) - t.mean[c];
                    double gi = t.dy(r, i) * (swish ? swishDerivative(xm * t.scale[c] + t.shift[c]) : 1);
                    sg += gi;
                    sgx += gi * xm;
                    double expected = a[c] * gi + b[c] * xm + k[c];
                    // dx = a·g + b·(x − mean) + k with g from the swish derivative: the float32 terms cancel, so the
                    // bound is relative to max(1, |dx|) with ~170 roundings of headroom
                    assertEquals(expected, dx.getDouble((long) r * t.hw + i), 1e-5 * Math.max(1, Math.abs(expected)),
                            "dx, swish " + swish + ", row " + r + ", element " + i);
                }
                // float32 sums of hw gradient terms (|g| ≲ 4, |g·(x − mean)| ≲ 16): a few 2⁻²⁴ of the sums' magnitude
                double tol = 1e-5 * t.hw;
                assertEquals(sg, sumG[r], tol, "Σg, swish " + swish + ", row " + r);
                assertEquals(sgx, sumGx[r], tol * 4, "Σg·(x − mean), swish " + swish + ", row " + r);
            }
        }
    }

    /** Every row gets the same bits wherever it sits (vector lanes, tail, either thread's range). */
    @Test
    void equalRowsGiveIdenticalResults() {
        long[] shape = {4, 64, 17, 23};
        Nd4j.getRandom().setSeed(4);
        INDArray row = Nd4j.randn(DataType.FLOAT, 1, 1, 17, 23);
        INDArray x = Nd4j.createUninitialized(DataType.FLOAT, shape);
        for (int n = 0; n < shape[0]; n++) {
            for (int c = 0; c < shape[1]; c++) {
                x.get(org.nd4j.linalg.indexing.NDArrayIndex.point(n), org.nd4j.linalg.indexing.NDArrayIndex.point(c))
                        .assign(row.reshape(17, 23));
            }
        }
        double[] sums = BatchNormKernels.rowSums(x);
        for (double s : sums) {
            assertEquals(Double.doubleToLongBits(sums[0]), Double.doubleToLongBits(s));
        }
        float[] zeros = new float[64];
        float[] ones = new float[64];
        java.util.Arrays.fill(ones, 1f);
        INDArray y = Nd4j.createUninitialized(DataType.FLOAT, shape);
        BatchNormKernels.normalize(x, y, zeros, ones, zeros, true);
        INDArray first = y.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                org.nd4j.linalg.indexing.NDArrayIndex.point(0));
        for (int n = 0; n < shape[0]; n++) {
            for (int c = 0; c < shape[1]; c++) {
                assertEquals(first, y.get(org.nd4j.linalg.indexing.NDArrayIndex.point(n),
                        org.nd4j.linalg.indexing.NDArrayIndex.point(c)), "row " + n + "," + c);
            }
        }
    }

    @Test
    void acceptsOnlyDenseFloatNchwArraysOfOneShape() {
        INDArray x = Nd4j.create(DataType.FLOAT, 2, 3, 4, 5);
        assertTrue(BatchNormKernels.accepts(x, x.dup()));
        assertFalse(BatchNormKernels.accepts(x, Nd4j.create(DataType.FLOAT, 2, 3, 5, 4)), "other shape");
        assertFalse(BatchNormKernels.accepts(x.castTo(DataType.DOUBLE)), "double");
        assertFalse(BatchNormKernels.accepts(x.permute(0, 1, 3, 2)), "strided view");
        assertFalse(BatchNormKernels.accepts(Nd4j.create(DataType.FLOAT, 6, 20)), "rank 2");
        assertArrayEquals(new double[6], BatchNormKernels.rowSums(x));
    }
}
