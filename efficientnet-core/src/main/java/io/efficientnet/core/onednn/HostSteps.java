package io.efficientnet.core.onednn;

import org.bytedeco.dnnl.memory;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** The parts of a oneDNN training step computed in Java, on float32 data in native memory. */
final class HostSteps {

    private HostSteps() {
    }

    /**
     * Softmax and multi-class cross-entropy on {@code n} rows of {@code k} logits, as DL4J's {@code LossMCXENT}
     * computes them: returns the mean over examples of {@code −Σ y·log(max(p, 1e-10))} and writes the gradient at the
     * logits, the sum over examples ({@code p·Σy − y} per example; the updater divides by the batch size).
     */
    static double softmaxCrossEntropy(float[] logits, float[] labels, float[] gradLogits, long n, int k) {
        double total = 0;
        for (int e = 0; e < n; e++) {
            int o = e * k;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < k; j++) {
                max = Math.max(max, logits[o + j]);
            }
            double sum = 0;
            for (int j = 0; j < k; j++) {
                sum += Math.exp(logits[o + j] - max);
            }
            double labelSum = 0;
            for (int j = 0; j < k; j++) {
                labelSum += labels[o + j];
            }
            for (int j = 0; j < k; j++) {
                double p = Math.exp(logits[o + j] - max) / sum;
                total -= labels[o + j] * Math.log(Math.max((float) p, 1e-10));
                gradLogits[o + j] = (float) (p * labelSum - labels[o + j]);
            }
        }
        return total / n;
    }

    /** {@code to = from · mask} (per element, or per example: N is the outermost dimension of every format here). */
    static void applyMask(memory from, memory to, float[] mask, boolean perExample, int perExampleSize,
            int elements) {
        FloatPointer a = new FloatPointer(from.get_data_handle()).capacity(elements);
        FloatPointer b = new FloatPointer(to.get_data_handle()).capacity(elements);
        float[] chunk = new float[perExampleSize];
        for (int e = 0; e < elements / perExampleSize; e++) {
            a.position((long) e * perExampleSize).get(chunk);
            for (int i = 0; i < perExampleSize; i++) {
                chunk[i] *= perExample ? mask[e] : mask[e * perExampleSize + i];
            }
            b.position((long) e * perExampleSize).put(chunk);
        }
    }

    /** The first {@code bytes} of {@code m} as a native-order buffer. */
    static ByteBuffer buffer(memory m, long bytes) {
        return new BytePointer(m.get_data_handle()).capacity(bytes).asByteBuffer().order(ByteOrder.nativeOrder());
    }

    /** Writes {@code values}, as floats, to the start of {@code m}. */
    static void put(memory m, double[] values) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        new FloatPointer(m.get_data_handle()).capacity(f.length).put(f);
    }

    /** The first {@code n} floats of {@code m}. */
    static double[] doubles(memory m, int n) {
        float[] f = new float[n];
        new FloatPointer(m.get_data_handle()).capacity(n).get(f);
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
