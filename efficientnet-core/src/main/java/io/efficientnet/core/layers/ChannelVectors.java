package io.efficientnet.core.layers;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;

/**
 * Copies small per-channel vectors between ND4J arrays and Java {@code double[]} through the arrays' NIO views.
 * ND4J's own conversions ({@code toDoubleVector}, {@code createFromArray} + {@code castTo}) allocate and cost ~0.1–1
 * ms each for a few thousand values, which adds up over the ~20 per batch-norm step.
 */
final class ChannelVectors {

    private ChannelVectors() {
    }

    /** The values of a contiguous vector-shaped array (any view offset), as doubles. */
    static double[] read(INDArray a) {
        INDArray src = direct(a) ? a : a.dup('c');
        int n = (int) src.length();
        int off = (int) src.offset();
        double[] out = new double[n];
        if (src.dataType() == DataType.FLOAT) {
            FloatBuffer b = src.data().asNioFloat();
            for (int i = 0; i < n; i++) {
                out[i] = b.get(off + i);
            }
        } else if (src.dataType() == DataType.DOUBLE) {
            DoubleBuffer b = src.data().asNioDouble();
            for (int i = 0; i < n; i++) {
                out[i] = b.get(off + i);
            }
        } else {
            return src.toDoubleVector();
        }
        return out;
    }

    /** Writes {@code values} (length = a.length()) into a contiguous array, e.g. a gradient view. */
    static INDArray write(INDArray a, double[] values) {
        if (!direct(a) || (a.dataType() != DataType.FLOAT && a.dataType() != DataType.DOUBLE)) {
            a.assign(Nd4j.createFromArray(values).castTo(a.dataType()).reshape(a.shape()));
            return a;
        }
        int off = (int) a.offset();
        if (a.dataType() == DataType.FLOAT) {
            FloatBuffer b = a.data().asNioFloat();
            for (int i = 0; i < values.length; i++) {
                b.put(off + i, (float) values[i]);
            }
        } else {
            DoubleBuffer b = a.data().asNioDouble();
            for (int i = 0; i < values.length; i++) {
                b.put(off + i, values[i]);
            }
        }
        return a;
    }

    /** Writes the per-channel values repeated n times ({@code [n·c]} in example-major order) into {@code column}. */
    static INDArray writeTiled(INDArray column, double[] perChannel, long n) {
        int c = perChannel.length;
        double[] tiled = new double[(int) n * c];
        for (int i = 0; i < n; i++) {
            System.arraycopy(perChannel, 0, tiled, i * c, c);
        }
        return write(column, tiled);
    }

    /** Whether the array's elements are consecutive in its buffer, so the NIO view can be indexed directly. */
    private static boolean direct(INDArray a) {
        return a.length() == 1 || a.elementWiseStride() == 1
                && (a.isVector() || a.ordering() == 'c' && Shape.hasDefaultStridesForShape(a));
    }
}
