package io.efficientnet.core.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** The Vector API loops behind {@link SwishKernels}; loaded only when {@code jdk.incubator.vector} is present. */
final class VectorSwish {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final FloatVector ONE = FloatVector.broadcast(SPECIES, 1f);

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
            FloatVector e = x.neg().lanewise(VectorOperators.EXP);
            x.div(e.add(1f)).intoByteBuffer(b, 4 * i, ORDER);
        }
        for (; i < to; i++) {
            float x = b.getFloat(4 * i);
            b.putFloat(4 * i, x / (1f + (float) Math.exp(-x)));
        }
    }

    private static void backward(ByteBuffer bx, ByteBuffer be, int from, int to) {
        int i = from;
        for (int upper = from + SPECIES.loopBound(to - from); i < upper; i += SPECIES.length()) {
            FloatVector x = FloatVector.fromByteBuffer(SPECIES, bx, 4 * i, ORDER);
            FloatVector eps = FloatVector.fromByteBuffer(SPECIES, be, 4 * i, ORDER);
            FloatVector s = ONE.div(x.neg().lanewise(VectorOperators.EXP).add(1f));
            // σ·(1 + x·(1 − σ))·ε
            FloatVector d = s.neg().add(1f).mul(x).add(1f).mul(s).mul(eps);
            d.intoByteBuffer(bx, 4 * i, ORDER);
        }
        for (; i < to; i++) {
            float x = bx.getFloat(4 * i);
            float s = 1f / (1f + (float) Math.exp(-x));
            bx.putFloat(4 * i, s * (1f + x * (1f - s)) * be.getFloat(4 * i));
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
