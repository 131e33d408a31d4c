package io.efficientnet.core.onednn;

import org.bytedeco.dnnl.memory;
import org.bytedeco.javacpp.FloatPointer;

/**
 * {@link LoweredOp.Dropout} in training, as Java steps between primitives: a fresh mask from the plan's random
 * generator at every step, applied forward and, to the gradient, backward. Inference has no dropout:
 * {@link GraphLowering#lower} drops it.
 */
final class DropoutSteps {

    private DropoutSteps() {
    }

    static void training(OneDnnTrainingPlan plan, LoweredOp.Dropout d) {
        PlanBuilder b = plan.builder();
        Tensor src = b.tensor(d.input());
        if (d.retain() >= 1.0) {
            b.put(d.output(), src);
            return;
        }
        Tensor dst = b.allocate(src.dims, src.desc);
        dst.collapsed = src.collapsed;
        long n = src.dims[0];
        int elements = Math.toIntExact(src.desc.get_size() / Float.BYTES);
        int perExample = Math.toIntExact(elements / n);
        float keepScale = (float) (1.0 / d.retain());
        float[] mask = new float[d.perExample() ? Math.toIntExact(n) : elements];
        plan.forward(() -> {
            b.strm._wait();
            for (int i = 0; i < mask.length; i++) {
                mask[i] = plan.random().nextDouble() < d.retain() ? keepScale : 0f;
            }
            applyMask(src.mem, dst.mem, mask, d.perExample(), perExample, elements);
        });
        b.put(d.output(), dst);

        plan.backwardOf(dst, () -> {
            if (dst.diff == null) {
                return;
            }
            memory dOut = plan.convert(dst.diff, dst.diffDesc, dst.desc);
            memory dSrc = b.newMemory(src.desc);
            plan.backward(() -> {
                b.strm._wait();
                applyMask(dOut, dSrc, mask, d.perExample(), perExample, elements);
            });
            plan.accumulateOwned(src, dSrc, src.desc);
        });
    }

    /** {@code to = from · mask} (per element, or per example: N is the outermost dimension of every format here). */
    private static void applyMask(memory from, memory to, float[] mask, boolean perExample, int perExampleSize,
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
}
