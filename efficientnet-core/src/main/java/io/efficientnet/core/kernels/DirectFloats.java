package io.efficientnet.core.kernels;

import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.common.util.ArrayUtil;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Direct {@link ByteBuffer} views of the memory behind dense float32 ND4J arrays on the CPU backend, for the Java
 * kernels in this package. Arrays that are not dense (strided views, broadcasts), not float32, larger than 2 GiB, or on
 * another backend have no such view; callers then use ND4J's own operations.
 */
public final class DirectFloats {

    private static final boolean CPU = detectCpu();

    private DirectFloats() {
    }

    /**
     * The array's elements as a native-order direct buffer of {@code 4·length} bytes, in the array's own order, or
     * {@code null} when the array has no such view.
     */
    public static ByteBuffer of(INDArray a) {
        if (!CPU || a == null || a.dataType() != DataType.FLOAT || a.isEmpty() || a.length() > Integer.MAX_VALUE / 4
                || !denseStrides(a) || a.data().pointer() == null) {
            return null;
        }
        FloatPointer p = new FloatPointer(a.data().pointer());
        long start = p.position() + a.offset();
        p.position(start).limit(start + a.length());
        // JavaCPP's buffer spans [0, limit) with its position at the start: slice it to exactly the array's elements
        ByteBuffer b = p.asByteBuffer();
        if (b.remaining() != 4 * a.length()) {
            return null;
        }
        return b.slice().order(ByteOrder.nativeOrder());
    }

    /** Whether two arrays are laid out alike (same shape and order), so that element {@code i} of both match. */
    public static boolean sameLayout(INDArray a, INDArray b) {
        return a.ordering() == b.ordering() && a.equalShapes(b);
    }

    /**
     * Whether the strides are the canonical ones of the array's order (the elements are dense in that order). ND4J's {@code Shape.hasDefaultStridesForShape}
     * also demands strictly descending strides, which rejects dense arrays with a dimension of size 1 (e.g.
     * {@code [2, 3, 1, 2]} with strides {@code [6, 2, 2, 1]}).
     */
    public static boolean denseStrides(INDArray a) {
        long[] canonical = a.ordering() == 'f' ? ArrayUtil.calcStridesFortran(a.shape()) : ArrayUtil.calcStrides(a.shape());
        return Arrays.equals(a.stride(), canonical);
    }

    private static boolean detectCpu() {
        try {
            return Nd4j.getEnvironment().isCPU();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }
}
