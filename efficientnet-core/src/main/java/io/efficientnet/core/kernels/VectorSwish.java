package io.efficientnet.core.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The Vector API loops behind {@link SwishKernels}; loaded only when {@code jdk.incubator.vector} is present.
 *
 * <p>{@code exp} is computed here from IEEE basic operations (Cody–Waite range reduction, a degree-6 polynomial with
 * Cephes' {@code expf} coefficients, scaling by {@code 2ⁿ} through the exponent bits), identically in the vector
 * lanes and in the scalar tail. The Vector API's own {@code EXP} is not used: it gives SVML's result once C2 has
 * compiled the loop and {@code Math.exp}'s before, so the same input could give different swish values at different
 * moments of a run, and exact resume (a restored network continuing bit for bit) broke.
 */
final class VectorSwish {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final FloatVector ONE = FloatVector.broadcast(SPECIES, 1f);

    // exp(x) = 2ⁿ·exp(r), n = round(x·log2 e), r = x − n·ln 2 (ln 2 split in two for an exact product)
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float ROUND = 12582912f; // 1.5·2²³: adding it rounds to an integer held in the low bits
    private static final int ROUND_BITS = 0x4B400000;
    private static final float MIN_ARG = -87f; // exp stays a normal float with a valid exponent in [−87, 88]
    private static final float MAX_ARG = 88f;
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;

    /** e^x for every lane, bit-identical to {@link #exp(float)} on each lane. */
    static FloatVector exp(FloatVector v) {
        FloatVector x = v.max(MIN_ARG).min(MAX_ARG);
        FloatVector t = x.fma(LOG2E, ROUND);
        FloatVector n = t.sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(SPECIES, -LN2_HI), x);
        r = n.fma(FloatVector.broadcast(SPECIES, -LN2_LO), r);
        FloatVector p = r.fma(P0, P1);
        p = p.fma(r, FloatVector.broadcast(SPECIES, P2));
        p = p.fma(r, FloatVector.broadcast(SPECIES, P3));
        p = p.fma(r, FloatVector.broadcast(SPECIES, P4));
        p = p.fma(r, FloatVector.broadcast(SPECIES, P5));
        FloatVector y = p.mul(r.mul(r)).add(r).add(1f);
        FloatVector scale = t.reinterpretAsInts().sub(ROUND_BITS - 127).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats();
        return y.mul(scale);
    }

    /** e^x, the scalar twin of {@link #exp(FloatVector)}. */
    static float exp(float v) {
        float x = Math.min(Math.max(v, MIN_ARG), MAX_ARG);
        float t = Math.fma(x, LOG2E, ROUND);
        float n = t - ROUND;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(r, P0, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        float y = p * (r * r) + r + 1f;
        float scale = Float.intBitsToFloat((Float.floatToRawIntBits(t) - (ROUND_BITS - 127)) << 23);
        return y * scale;
    }

    private VectorSwish() {
    }

    static void forward(ByteBuffer x, int n) {
        Parallel.forRange(n, SPECIES.length(), (from, to) -> forward(x, from, to));
    }

    static void backward(ByteBuffer x, ByteBuffer eps, int n) {
        Parallel.forRange(n, SPECIES.length(), (from, to) -> backward(x, eps, from, to));
    }

    private static void forward(ByteBuffer b, int from, int to) {
        int i = from;
        for (int upper = from + SPECIES.loopBound(to - from); i < upper; i += SPECIES.length()) {
            FloatVector x = FloatVector.fromByteBuffer(SPECIES, b, 4 * i, ORDER);
            FloatVector e = exp(x.neg());
            x.div(e.add(1f)).intoByteBuffer(b, 4 * i, ORDER);
        }
        for (; i < to; i++) {
            float x = b.getFloat(4 * i);
            b.putFloat(4 * i, x / (exp(-x) + 1f));
        }
    }

    private static void backward(ByteBuffer bx, ByteBuffer be, int from, int to) {
        int i = from;
        for (int upper = from + SPECIES.loopBound(to - from); i < upper; i += SPECIES.length()) {
            FloatVector x = FloatVector.fromByteBuffer(SPECIES, bx, 4 * i, ORDER);
            FloatVector eps = FloatVector.fromByteBuffer(SPECIES, be, 4 * i, ORDER);
            FloatVector s = ONE.div(exp(x.neg()).add(1f));
            // σ·(1 + x·(1 − σ))·ε
            FloatVector d = s.neg().add(1f).mul(x).add(1f).mul(s).mul(eps);
            d.intoByteBuffer(bx, 4 * i, ORDER);
        }
        for (; i < to; i++) {
            float x = bx.getFloat(4 * i);
            float s = 1f / (exp(-x) + 1f);
            // the vector loop's operations in the same order, so tail and lanes agree bit for bit
            bx.putFloat(4 * i, ((1f - s) * x + 1f) * s * be.getFloat(4 * i));
        }
    }

    /** Runs both loops on a few values (vector and tail paths) and compares with the scalar formulas. */
    static boolean selfCheck() {
        int n = 2 * SPECIES.length() + 3;
        ByteBuffer x = ByteBuffer.allocateDirect(4 * n).order(ORDER);
        ByteBuffer eps = ByteBuffer.allocateDirect(4 * n).order(ORDER);
        for (int i = 0; i < n; i++) {
            x.putFloat(4 * i, (i - n / 2f) * 0.75f);
            eps.putFloat(4 * i, 1f + i);
        }
        ByteBuffer y = ByteBuffer.allocateDirect(4 * n).order(ORDER);
        y.put(x.duplicate()).clear();
        forward(y, 0, n);
        backward(x, eps, 0, n);
        for (int i = 0; i < n; i++) {
            double v = (i - n / 2.0) * 0.75;
            double s = 1 / (1 + Math.exp(-v));
            double e = 1.0 + i;
            if (Math.abs(y.getFloat(4 * i) - v * s) > 1e-5 * Math.max(1, Math.abs(v))
                    || Math.abs(x.getFloat(4 * i) - e * s * (1 + v * (1 - s))) > 1e-5 * e) {
                return false;
            }
        }
        return true;
    }
}
