package io.efficientnet.core.onednn;

import org.bytedeco.dnnl.batch_normalization_backward;
import org.bytedeco.dnnl.batch_normalization_forward;
import org.bytedeco.dnnl.memory;
import org.bytedeco.javacpp.FloatPointer;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SCALE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SHIFT;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_MEAN;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SCALE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SHIFT;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_VARIANCE;
import static org.bytedeco.dnnl.global.dnnl.normalization_flags;
import static org.bytedeco.dnnl.global.dnnl.prop_kind;

/**
 * {@link LoweredOp.BatchNorm} in training: oneDNN's batch normalisation with batch statistics (handed to the
 * network for its running statistics), then swish where fused, and the backward of both; a frozen one normalises
 * with the layer's running statistics, as at inference, and has no backward. Inference has no batch norms:
 * {@link GraphLowering#lower} folds them into the convolutions.
 */
final class BatchNormPrimitives {

    private BatchNormPrimitives() {
    }

    static void training(OneDnnTrainingPlan plan, LoweredOp.BatchNorm bn) {
        PlanBuilder b = plan.builder();
        Tensor src = b.require4d(bn.input(), bn.channels());
        if (plan.isFrozen(bn.name())) {
            Tensor dst = frozen(plan, bn, src);
            b.put(bn.output(), bn.swish() ? EltwisePrimitives.forward(plan, dst, Eltwise.SWISH).output() : dst);
            return;
        }
        int flags = normalization_flags.use_scale.value | normalization_flags.use_shift.value;
        batch_normalization_forward.desc d = b.natives.keep(new batch_normalization_forward.desc(
                prop_kind.forward_training.value, src.desc, (float) bn.epsilon(), flags));
        batch_normalization_forward.primitive_desc pd =
                b.natives.keep(new batch_normalization_forward.primitive_desc(d, b.eng));
        memory gamma = plan.vector(plan.views().param(bn.name(), "gamma"));
        memory beta = plan.vector(plan.views().param(bn.name(), "beta"));
        memory mean = b.newMemory(pd.mean_desc());
        memory variance = b.newMemory(pd.variance_desc());
        Tensor dst = b.allocate(src.dims, pd.dst_desc());
        plan.forward(plan.exec(b.natives.keep(new batch_normalization_forward(pd)), b.natives.args(DNNL_ARG_SRC,
                src.mem, DNNL_ARG_SCALE, gamma, DNNL_ARG_SHIFT, beta, DNNL_ARG_DST, dst.mem, DNNL_ARG_MEAN, mean,
                DNNL_ARG_VARIANCE, variance)));
        int c = Math.toIntExact(bn.channels());
        plan.forward(() -> {
            b.strm._wait();
            plan.views().batchStatistics(bn.name(), doubles(mean, c), doubles(variance, c));
        });
        EltwisePrimitives.Activated swish = bn.swish() ? EltwisePrimitives.forward(plan, dst, Eltwise.SWISH) : null;
        Tensor out = swish == null ? dst : swish.output();
        b.put(bn.output(), out);

        plan.backwardOf(out, () -> {
            if (out.diff == null) {
                return;
            }
            memory dDst = swish == null ? out.diff : EltwisePrimitives.backward(plan, dst, swish);
            memory.desc dDstDesc = swish == null ? out.diffDesc : dst.desc;
            batch_normalization_backward.desc bd = b.natives.keep(new batch_normalization_backward.desc(
                    prop_kind.backward.value, dst.desc, src.desc, (float) bn.epsilon(), flags));
            batch_normalization_backward.primitive_desc bpd =
                    b.natives.keep(new batch_normalization_backward.primitive_desc(bd, b.eng, pd));
            memory dIn = plan.convert(dDst, dDstDesc, bpd.diff_dst_desc());
            boolean inputGradient = plan.needsGradient(bn.input()); // else computed (oneDNN always does), dropped
            memory dSrc = inputGradient ? plan.contributionTarget(src, bpd.diff_src_desc())
                    : b.newMemory(bpd.diff_src_desc());
            memory dGamma = plan.vector(plan.views().gradient(bn.name(), "gamma"));
            memory dBeta = plan.vector(plan.views().gradient(bn.name(), "beta"));
            plan.backward(plan.exec(b.natives.keep(new batch_normalization_backward(bpd)), b.natives.args(
                    DNNL_ARG_SRC, src.mem, DNNL_ARG_MEAN, mean, DNNL_ARG_VARIANCE, variance, DNNL_ARG_DIFF_DST, dIn,
                    DNNL_ARG_SCALE, gamma, DNNL_ARG_SHIFT, beta, DNNL_ARG_DIFF_SRC, dSrc, DNNL_ARG_DIFF_SCALE, dGamma,
                    DNNL_ARG_DIFF_SHIFT, dBeta)));
            if (inputGradient) {
                plan.contributed(src, dSrc, bpd.diff_src_desc());
            }
        });
    }

    /** A frozen batch norm: the layer's running statistics, read from the network at every step, normalise. */
    private static Tensor frozen(OneDnnTrainingPlan plan, LoweredOp.BatchNorm bn, Tensor src) {
        PlanBuilder b = plan.builder();
        int flags = normalization_flags.use_global_stats.value | normalization_flags.use_scale.value
                | normalization_flags.use_shift.value;
        batch_normalization_forward.primitive_desc pd = b.natives.keep(new batch_normalization_forward.primitive_desc(
                b.natives.keep(new batch_normalization_forward.desc(prop_kind.forward_inference.value, src.desc,
                        (float) bn.epsilon(), flags)), b.eng));
        memory mean = b.newMemory(pd.mean_desc());
        memory variance = b.newMemory(pd.variance_desc());
        plan.refresh(() -> {
            double[][] stats = plan.views().runningStatistics(bn.name());
            put(mean, stats[0]);
            put(variance, stats[1]);
        });
        Tensor dst = b.allocate(src.dims, pd.dst_desc());
        plan.forward(plan.exec(b.natives.keep(new batch_normalization_forward(pd)), b.natives.args(DNNL_ARG_SRC,
                src.mem, DNNL_ARG_MEAN, mean, DNNL_ARG_VARIANCE, variance, DNNL_ARG_SCALE,
                plan.vector(plan.views().param(bn.name(), "gamma")), DNNL_ARG_SHIFT,
                plan.vector(plan.views().param(bn.name(), "beta")), DNNL_ARG_DST, dst.mem)));
        return dst;
    }

    /** Writes {@code values}, as floats, to the start of {@code m}. */
    private static void put(memory m, double[] values) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        new FloatPointer(m.get_data_handle()).capacity(f.length).put(f);
    }

    private static double[] doubles(memory m, int n) {
        float[] f = new float[n];
        new FloatPointer(m.get_data_handle()).capacity(n).get(f);
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
