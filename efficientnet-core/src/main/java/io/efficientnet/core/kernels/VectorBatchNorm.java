package io.efficientnet.core.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The Vector API loops behind {@link BatchNormKernels}; loaded only when {@code jdk.incubator.vector} is present.
 *
 * <p>Every loop walks the {@code [rows, hw]} matrix view of an NCHW array, row {@code r} being channel
 * {@code r % channels} of one example, so each row has one mean, scale and shift. Sums are taken in float lanes over
 * blocks of {@value #BLOCK} elements and the block sums added in double. Rows are split over the cores in fixed
 * ranges and each row's sum is written to its own slot, so results do not depend on thread timing.
 */
final class VectorBatchNorm {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final int BLOCK = 512;

    private VectorBatchNorm() {
    }

    /** {@code sums[r] = Σ x[r, ·]}. */
    static void rowSums(ByteBuffer x, int rows, int hw, double[] sums) {
        Parallel.forRows(rows, hw, (from, to) -> {
            for (int r = from; r < to; r++) {
                sums[r] = sum(x, r * hw, hw);
            }
        });
    }

    /** {@code sums[r] = Σ (x − c)}, {@code squares[r] = Σ (x − c)²} with {@code c = centre[r % channels]}. */
    static void centredRowMoments(ByteBuffer x, int rows, int hw, int channels, float[] centre, double[] sums,
            double[] squares) {
        Parallel.forRows(rows, hw, (from, to) -> {
            for (int r = from; r < to; r++) {
                centredMoments(x, r * hw, hw, centre[r % channels], sums, squares, r);
            }
        });
    }

    /** {@code y = (x − mean)·scale + shift}, then swish if {@code swish}; {@code y} may be {@code x}. */
    static void normalize(ByteBuffer x, ByteBuffer y, int rows, int hw, int channels, float[] mean, float[] scale,
            float[] shift, boolean swish) {
        Parallel.forRows(rows, hw, (from, to) -> {
            for (int r = from; r < to; r++) {
                int c = r % channels;
                normalizeRow(x, y, r * hw, hw, mean[c], scale[c], shift[c], swish);
            }
        });
    }

    /**
     * First backward pass: {@code g = dy}, or with {@code swish} {@code g = dy·swish'(z)} at
     * {@code z = (x − mean)·scale + shift}, which is then written to {@code gOut}; per row {@code sumG[r] = Σ g} and
     * {@code sumGx[r] = Σ g·(x − mean)}.
     */
    static void backwardSums(ByteBuffer x, ByteBuffer dy, ByteBuffer gOut, int rows, int hw, int channels,
            float[] mean, float[] scale, float[] shift, boolean swish, double[] sumG, double[] sumGx) {
        Parallel.forRows(rows, hw, (from, to) -> {
            for (int r = from; r < to; r++) {
                int c = r % channels;
                backwardSumsRow(x, dy, gOut, r * hw, hw, mean[c], scale[c], shift[c], swish, sumG, sumGx, r);
            }
        });
    }

    /** Second backward pass: {@code dx = a·g + b·(x − mean) + k} per channel; {@code dx} may be {@code g}. */
    static void backwardInput(ByteBuffer x, ByteBuffer g, ByteBuffer dx, int rows, int hw, int channels,
            float[] mean, float[] a, float[] b, float[] k) {
        Parallel.forRows(rows, hw, (from, to) -> {
            for (int r = from; r < to; r++) {
                int c = r % channels;
                backwardInputRow(x, g, dx, r * hw, hw, mean[c], a[c], b[c], k[c]);
            }
        });
    }

    private static double sum(ByteBuffer x, int start, int len) {
        double total = 0;
        for (int blockStart = 0; blockStart < len; blockStart += BLOCK) {
            int end = Math.min(len, blockStart + BLOCK);
            int i = blockStart;
            float partial = 0f;
            int upper = blockStart + SPECIES.loopBound(end - blockStart);
            if (i < upper) {
                FloatVector acc = FloatVector.fromByteBuffer(SPECIES, x, 4 * (start + i), ORDER);
                for (i += LANES; i < upper; i += LANES) {
                    acc = acc.add(FloatVector.fromByteBuffer(SPECIES, x, 4 * (start + i), ORDER));
                }
                partial = acc.reduceLanes(VectorOperators.ADD);
            }
            for (; i < end; i++) {
                partial += x.getFloat(4 * (start + i));
            }
            total += partial;
        }
        return total;
    }

    /** {@code Σ a·b} over {@code [start, start + len)}, summed like {@link #sum}. */
    static double dot(ByteBuffer a, ByteBuffer b, int start, int len) {
        double total = 0;
        for (int blockStart = 0; blockStart < len; blockStart += BLOCK) {
            int end = Math.min(len, blockStart + BLOCK);
            int i = blockStart;
            float partial = 0f;
            int upper = blockStart + SPECIES.loopBound(end - blockStart);
            if (i < upper) {
                FloatVector acc = FloatVector.fromByteBuffer(SPECIES, a, 4 * (start + i), ORDER)
                        .mul(FloatVector.fromByteBuffer(SPECIES, b, 4 * (start + i), ORDER));
                for (i += LANES; i < upper; i += LANES) {
                    acc = FloatVector.fromByteBuffer(SPECIES, a, 4 * (start + i), ORDER)
                            .fma(FloatVector.fromByteBuffer(SPECIES, b, 4 * (start + i), ORDER), acc);
                }
                partial = acc.reduceLanes(VectorOperators.ADD);
            }
            for (; i < end; i++) {
                partial = Math.fma(a.getFloat(4 * (start + i)), b.getFloat(4 * (start + i)), partial);
            }
            total += partial;
        }
        return total;
    }

    private static void centredMoments(ByteBuffer x, int start, int len, float centre, double[] sums,
            double[] squares, int row) {
        double s = 0;
        double q = 0;
        for (int blockStart = 0; blockStart < len; blockStart += BLOCK) {
            int end = Math.min(len, blockStart + BLOCK);
            int i = blockStart;
            float ps = 0f;
            float pq = 0f;
            int upper = blockStart + SPECIES.loopBound(end - blockStart);
            if (i < upper) {
                FloatVector d = FloatVector.fromByteBuffer(SPECIES, x, 4 * (start + i), ORDER).sub(centre);
                FloatVector accS = d;
                FloatVector accQ = d.mul(d);
                for (i += LANES; i < upper; i += LANES) {
                    d = FloatVector.fromByteBuffer(SPECIES, x, 4 * (start + i), ORDER).sub(centre);
                    accS = accS.add(d);
                    accQ = d.fma(d, accQ);
                }
                ps = accS.reduceLanes(VectorOperators.ADD);
                pq = accQ.reduceLanes(VectorOperators.ADD);
            }
            for (; i < end; i++) {
                float d = x.getFloat(4 * (start + i)) - centre;
                ps += d;
                pq = Math.fma(d, d, pq);
            }
            s += ps;
            q += pq;
        }
        sums[row] = s;
        squares[row] = q;
    }

    private static void normalizeRow(ByteBuffer x, ByteBuffer y, int start, int len, float mean, float scale,
            float shift, boolean swish) {
        int i = 0;
        for (int upper = SPECIES.loopBound(len); i < upper; i += LANES) {
            FloatVector z = FloatVector.fromByteBuffer(SPECIES, x, 4 * (start + i), ORDER).sub(mean).fma(scale, shift);
            if (swish) {
                z = z.div(VectorSwish.exp(z.neg()).add(1f));
            }
            z.intoByteBuffer(y, 4 * (start + i), ORDER);
        }
        for (; i < len; i++) {
            float z = Math.fma(x.getFloat(4 * (start + i)) - mean, scale, shift);
            if (swish) {
                z = z / (VectorSwish.exp(-z) + 1f);
            }
            y.putFloat(4 * (start + i), z);
        }
    }

    private static void backwardSumsRow(ByteBuffer x, ByteBuffer dy, ByteBuffer gOut, int start, int len,
            float mean, float scale, float shift, boolean swish, double[] sumG, double[] sumGx, int row) {
        ByteBuffer g = dy;
        if (swish) {
            // a separate loop for the row (still in cache for the sums): C2 boxes the accumulators of a reduction
            // loop whose body also evaluates exp, which made the fused loop 4x slower
            swishGradientRow(x, dy, gOut, start, len, mean, scale, shift);
            g = gOut;
        }
        double sg = 0;
        double sgx = 0;
        for (int blockStart = 0; blockStart < len; blockStart += BLOCK) {
            int end = Math.min(len, blockStart + BLOCK);
            int i = blockStart;
            float pg = 0f;
            float pgx = 0f;
            int upper = blockStart + SPECIES.loopBound(end - blockStart);
            if (i < upper) {
                FloatVector xm = FloatVector.fromByteBuffer(SPECIES, x, 4 * (start + i), ORDER).sub(mean);
                FloatVector gv = FloatVector.fromByteBuffer(SPECIES, g, 4 * (start + i), ORDER);
                FloatVector accG = gv;
                FloatVector accGx = gv.mul(xm);
                for (i += LANES; i < upper; i += LANES) {
                    xm = FloatVector.fromByteBuffer(SPECIES, x, 4 * (start + i), ORDER).sub(mean);
                    gv = FloatVector.fromByteBuffer(SPECIES, g, 4 * (start + i), ORDER);
                    accG = accG.add(gv);
                    accGx = gv.fma(xm, accGx);
                }
                pg = accG.reduceLanes(VectorOperators.ADD);
                pgx = accGx.reduceLanes(VectorOperators.ADD);
            }
            for (; i < end; i++) {
                float xm = x.getFloat(4 * (start + i)) - mean;
                float gi = g.getFloat(4 * (start + i));
                pg += gi;
                pgx = Math.fma(gi, xm, pgx);
            }
            sg += pg;
            sgx += pgx;
        }
        sumG[row] = sg;
        sumGx[row] = sgx;
    }

    /** {@code g = dy·swish'(z)} at {@code z = (x − mean)·scale + shift} for one row. */
    private static void swishGradientRow(ByteBuffer x, ByteBuffer dy, ByteBuffer g, int start, int len, float mean,
            float scale, float shift) {
        int i = 0;
        for (int upper = SPECIES.loopBound(len); i < upper; i += LANES) {
            FloatVector xm = FloatVector.fromByteBuffer(SPECIES, x, 4 * (start + i), ORDER).sub(mean);
            FloatVector d = FloatVector.fromByteBuffer(SPECIES, dy, 4 * (start + i), ORDER);
            swishGradient(xm, d, scale, shift).intoByteBuffer(g, 4 * (start + i), ORDER);
        }
        for (; i < len; i++) {
            float xm = x.getFloat(4 * (start + i)) - mean;
            g.putFloat(4 * (start + i), swishGradient(xm, dy.getFloat(4 * (start + i)), scale, shift));
        }
    }

    private static void backwardInputRow(ByteBuffer x, ByteBuffer g, ByteBuffer dx, int start, int len, float mean,
            float a, float b, float k) {
        FloatVector bv = FloatVector.broadcast(SPECIES, b);
        int i = 0;
        for (int upper = SPECIES.loopBound(len); i < upper; i += LANES) {
            FloatVector xm = FloatVector.fromByteBuffer(SPECIES, x, 4 * (start + i), ORDER).sub(mean);
            FloatVector gv = FloatVector.fromByteBuffer(SPECIES, g, 4 * (start + i), ORDER);
            xm.fma(bv, gv.fma(a, k)).intoByteBuffer(dx, 4 * (start + i), ORDER);
        }
        for (; i < len; i++) {
            float xm = x.getFloat(4 * (start + i)) - mean;
            dx.putFloat(4 * (start + i), Math.fma(xm, b, Math.fma(g.getFloat(4 * (start + i)), a, k)));
        }
    }

    /** {@code dy·σ(z)·(1 + z·(1 − σ(z)))} at {@code z = xm·scale + shift}, in {@link VectorSwish}'s order. */
    private static FloatVector swishGradient(FloatVector xm, FloatVector dy, float scale, float shift) {
        FloatVector z = xm.fma(scale, shift);
        FloatVector s = FloatVector.broadcast(SPECIES, 1f).div(VectorSwish.exp(z.neg()).add(1f));
        return s.neg().add(1f).mul(z).add(1f).mul(s).mul(dy);
    }

    private static float swishGradient(float xm, float dy, float scale, float shift) {
        float z = Math.fma(xm, scale, shift);
        float s = 1f / (VectorSwish.exp(-z) + 1f);
        return ((1f - s) * z + 1f) * s * dy;
    }
}
