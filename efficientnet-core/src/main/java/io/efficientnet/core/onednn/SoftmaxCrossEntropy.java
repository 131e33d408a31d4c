package io.efficientnet.core.onednn;

import org.bytedeco.dnnl.memory;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.memory.pointers.PagedPointer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Softmax and multi-class cross-entropy on a training plan's logits, as DL4J's {@code LossMCXENT} computes them, in
 * Java between the forward and the backward pass: the loss is the mean over examples of
 * {@code −Σ y·log(max(p, 1e-10))}; the gradient at the logits the sum over examples ({@code p·Σy − y} per example;
 * the updater divides by the batch size).
 */
final class SoftmaxCrossEntropy {

    private final int examples;
    private final int classes;
    private final float[] logits;
    private final float[] labels;
    private final float[] gradLogits;
    private final FloatPointer logitsNative;
    private final FloatPointer gradLogitsNative;
    private double loss;

    SoftmaxCrossEntropy(NativeScope natives, long examples, long classes) {
        this.examples = Math.toIntExact(examples);
        this.classes = Math.toIntExact(classes);
        this.logits = new float[Math.toIntExact(examples * classes)];
        this.labels = new float[logits.length];
        this.gradLogits = new float[logits.length];
        this.logitsNative = natives.keep(new FloatPointer(logits.length));
        this.gradLogitsNative = natives.keep(new FloatPointer(logits.length));
    }

    /** Reads the labels of the next step ({@code [N, classes]} float32, c order, not a view). */
    void labels(INDArray y) {
        new FloatPointer(new PagedPointer(y.data().address())).capacity(labels.length).get(labels);
    }

    /** The mean loss of the last step. */
    double loss() {
        return loss;
    }

    /**
     * Adds the forward steps that copy the logits out, compute loss and gradient, and write the gradient as the
     * logits tensor's gradient (its first and only contribution).
     */
    void build(OneDnnTrainingPlan plan, Tensor logitsTensor) {
        PlanBuilder b = plan.builder();
        memory.desc plain = b.desc(logitsTensor.dims, memory.format_tag.nc);
        memory logitsUser = b.natives.keep(new memory(plain, b.eng, logitsNative));
        memory gradUser = b.natives.keep(new memory(plain, b.eng, gradLogitsNative));
        plan.forward(plan.reorder(logitsTensor.mem, logitsUser));
        plan.forward(() -> {
            b.strm._wait();
            logitsNative.position(0).get(logits);
            compute();
            gradLogitsNative.position(0).put(gradLogits);
        });
        logitsTensor.diff = b.newMemory(logitsTensor.desc);
        logitsTensor.diffDesc = logitsTensor.desc;
        plan.forward(plan.reorder(gradUser, logitsTensor.diff));
    }

    private void compute() {
        int k = classes;
        double total = 0;
        for (int e = 0; e < examples; e++) {
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
        loss = total / examples;
    }
}
