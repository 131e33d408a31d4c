package io.efficientnet.core.weights;

import java.nio.ByteBuffer;

/** Element types of PyTorch files that this project reads, each converted to float32. */
enum TensorDType {
    F32(4), F16(2), BF16(2), F64(8), I64(8);

    /** Bytes per element. */
    final int bytes;

    TensorDType(int bytes) {
        this.bytes = bytes;
    }

    /** Reads {@code count} elements from {@code in} (its byte order set by the caller) as floats. */
    float[] decode(ByteBuffer in, int count) {
        float[] out = new float[count];
        for (int i = 0; i < count; i++) {
            out[i] = switch (this) {
                case F32 -> in.getFloat();
                case F16 -> halfToFloat(in.getShort());
                case BF16 -> Float.intBitsToFloat((in.getShort() & 0xffff) << 16);
                case F64 -> (float) in.getDouble();
                case I64 -> (float) in.getLong();
            };
        }
        return out;
    }

    /** IEEE 754 binary16 to float (exact: every half value is a float). */
    static float halfToFloat(short half) {
        int h = half & 0xffff;
        int exponent = (h >>> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        float magnitude;
        if (exponent == 0) {
            magnitude = mantissa * 0x1p-24f; // zero and subnormals
        } else if (exponent == 31) {
            magnitude = mantissa == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
        } else {
            magnitude = Float.intBitsToFloat(((exponent + 112) << 23) | (mantissa << 13));
        }
        return (h & 0x8000) != 0 ? -magnitude : magnitude;
    }
}
