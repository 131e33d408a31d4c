package io.efficientnet.core.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The Vector API loops behind {@link ChannelScaleKernels}; loaded only when {@code jdk.incubator.vector} is present.
 * Row {@code r} of the {@code [N·C, H·W]} view is scaled by {@code gate[r]}; the gate gradient is
 * {@link VectorBatchNorm#dot}.
 */
final class VectorChannelScale {

    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private VectorChannelScale() {
    }

    /** {@code out[r, ·] = x[r, ·]·gate[r]}. */
    static void forward(ByteBuffer x, ByteBuffer out, int rows, int hw, float[] gate) {
        Parallel.forRows(rows, hw, (from, to) -> {
            for (int r = from; r < to; r++) {
                scaleRow(x, out, r * hw, hw, gate[r]);
            }
        });
    }

    /** {@code dx[r, ·] = dy[r, ·]·gate[r]} and {@code dGate[r] = Σ dy[r, ·]·x[r, ·]}. */
    static void backward(ByteBuffer x, ByteBuffer dy, ByteBuffer dx, int rows, int hw, float[] gate,
            double[] dGate) {
        Parallel.forRows(rows, hw, (from, to) -> {
            for (int r = from; r < to; r++) {
                dGate[r] = VectorBatchNorm.dot(x, dy, r * hw, hw);
                scaleRow(dy, dx, r * hw, hw, gate[r]);
            }
        });
    }

    /** {@code out[r, ·] = value[r]}. */
    static void fillRows(ByteBuffer out, int rows, int hw, float[] value) {
        Parallel.forRows(rows, hw, (from, to) -> {
            for (int r = from; r < to; r++) {
                FloatVector v = FloatVector.broadcast(SPECIES, value[r]);
                int start = r * hw;
                int i = 0;
                for (int upper = SPECIES.loopBound(hw); i < upper; i += LANES) {
                    v.intoByteBuffer(out, 4 * (start + i), ORDER);
                }
                for (; i < hw; i++) {
                    out.putFloat(4 * (start + i), value[r]);
                }
            }
        });
    }

    private static void scaleRow(ByteBuffer in, ByteBuffer out, int start, int len, float g) {
        int i = 0;
        for (int upper = SPECIES.loopBound(len); i < upper; i += LANES) {
            FloatVector.fromByteBuffer(SPECIES, in, 4 * (start + i), ORDER).mul(g)
                    .intoByteBuffer(out, 4 * (start + i), ORDER);
        }
        for (; i < len; i++) {
            out.putFloat(4 * (start + i), in.getFloat(4 * (start + i)) * g);
        }
    }
}
