package io.efficientnet.core.onednn;

import org.bytedeco.dnnl.binary;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.pooling_backward;
import org.bytedeco.dnnl.pooling_forward;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_0;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_1;
import static org.bytedeco.dnnl.global.dnnl.algorithm;
import static org.bytedeco.dnnl.global.dnnl.prop_kind;

/**
 * {@link LoweredOp.GlobalPool} as oneDNN pooling over the whole map: average or max for inference, average with its
 * backward for training.
 */
final class PoolingPrimitives {

    private static final long[] ONES = {1, 1};
    private static final long[] ZEROS = {0, 0};

    private PoolingPrimitives() {
    }

    static void inference(OneDnnPlan plan, LoweredOp.GlobalPool p) {
        PlanBuilder b = plan.builder();
        Tensor given = b.require4d(p.input(), -1);
        long[] dstDims = {given.dims[0], given.dims[1], 1, 1};
        pooling_forward.primitive_desc pd = b.choose(p.name(), tag -> {
            pooling_forward.desc d = b.natives.keep(new pooling_forward.desc(prop_kind.forward_inference,
                    p.max() ? algorithm.pooling_max : algorithm.pooling_avg_exclude_padding, b.desc(given.dims, tag),
                    b.desc(dstDims, tag), new long[] {1, 1}, new long[] {given.dims[2], given.dims[3]},
                    new long[] {0, 0}, new long[] {0, 0}));
            return b.natives.keep(new pooling_forward.primitive_desc(d, b.eng));
        });
        Tensor src = plan.inFormat(given, pd.src_desc(), p.name());
        Tensor dst = b.allocate(dstDims, pd.dst_desc());
        dst.collapsed = p.collapse();
        plan.step(p.name(), b.natives.keep(new pooling_forward(pd)), b.natives.args(DNNL_ARG_SRC, src.mem,
                DNNL_ARG_DST, dst.mem));
        if (src != given) {
            b.release(src);
        }
        b.put(p.output(), dst);
    }

    static void training(OneDnnTrainingPlan plan, LoweredOp.GlobalPool p) {
        PlanBuilder b = plan.builder();
        Tensor src = b.require4d(p.input(), -1);
        long[] dstDims = {src.dims[0], src.dims[1], 1, 1};
        long[] kernel = {src.dims[2], src.dims[3]};
        pooling_forward.desc d = b.natives.keep(new pooling_forward.desc(plan.forwardKind(),
                algorithm.pooling_avg_exclude_padding, src.desc, b.any(dstDims), ONES, kernel, ZEROS, ZEROS));
        pooling_forward.primitive_desc pd = b.natives.keep(new pooling_forward.primitive_desc(d, b.eng));
        Tensor dst = b.allocate(dstDims, pd.dst_desc());
        dst.collapsed = p.collapse();
        plan.forward(plan.exec(b.natives.keep(new pooling_forward(pd)), b.natives.args(DNNL_ARG_SRC, src.mem,
                DNNL_ARG_DST, dst.mem)));
        b.put(p.output(), dst);
        plan.backwardOf(dst, () -> backward(plan, src, dst, pd, kernel));
    }

    private static void backward(OneDnnTrainingPlan plan, Tensor src, Tensor dst, pooling_forward.primitive_desc pd,
                                 long[] kernel) {
        if (dst.diff == null) {
            return;
        }
        PlanBuilder b = plan.builder();
        if (src.diff != null) {
            // src's gradient so far plus dy / (H·W) broadcast over the map: one jit binary add in place
            // (oneDNN's pooling backward for large global windows is a reference loop: ~30 ms per 56×56 map)
            binary.primitive_desc add = b.choose(plan.building(), tag -> {
                memory.desc sum = b.desc(src.dims, tag);
                return b.natives.keep(new binary.primitive_desc(b.natives.keep(new binary.desc(algorithm.binary_add,
                        sum, b.desc(dst.dims, tag), sum)), b.eng));
            });
            memory scaled = b.newMemory(dst.diffDesc);
            plan.backward(EltwisePrimitives.scale(plan, dst.diff, scaled, dst.diffDesc,
                    (float) (1.0 / (src.dims[2] * src.dims[3]))));
            memory sum = plan.convert(src.diff, src.diffDesc, add.src0_desc());
            plan.backward(plan.exec(b.natives.keep(new binary(add)), b.natives.args(DNNL_ARG_SRC_0, sum,
                    DNNL_ARG_SRC_1, plan.convert(scaled, dst.diffDesc, add.src1_desc()), DNNL_ARG_DST, sum)));
            if (sum != src.diff) {
                plan.backward(plan.reorder(sum, src.diff));
            }
            return;
        }
        pooling_backward.primitive_desc bpd = b.choose(plan.building(), tag -> b.natives.keep(
                new pooling_backward.primitive_desc(b.natives.keep(new pooling_backward.desc(
                        algorithm.pooling_avg_exclude_padding, b.desc(src.dims, tag), b.desc(dst.dims, tag), ONES,
                        kernel, ZEROS, ZEROS)), b.eng, pd)));
        memory dDst = plan.convert(dst.diff, dst.diffDesc, bpd.diff_dst_desc());
        memory dSrc = plan.contributionTarget(src, bpd.diff_src_desc());
        plan.backward(plan.exec(b.natives.keep(new pooling_backward(bpd)), b.natives.args(DNNL_ARG_DIFF_DST, dDst,
                DNNL_ARG_DIFF_SRC, dSrc)));
        plan.contributed(src, dSrc, bpd.diff_src_desc());
    }
}
