package io.efficientnet.core.onednn;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.inner_product_backward_data;
import org.bytedeco.dnnl.inner_product_backward_weights;
import org.bytedeco.dnnl.inner_product_forward;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.post_ops;
import org.bytedeco.dnnl.primitive_attr;
import org.bytedeco.dnnl.softmax_forward;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.prop_kind;

/**
 * {@link LoweredOp.Dense} as oneDNN inner products: inference with its activation as a post-op and softmax after it,
 * and training's forward (softmax cross-entropy at the head: {@link SoftmaxCrossEntropy}) with its backward.
 */
final class InnerProductPrimitives {

    private InnerProductPrimitives() {
    }

    /** The input tensor, checked to be {@code [N, in]} or {@code [N, in, 1, 1]}. */
    private static Tensor input(PlanBuilder b, LoweredOp.Dense dn) {
        Tensor src = b.tensor(dn.input());
        boolean fourD = src.dims.length == 4;
        if (src.dims[1] != dn.in() || fourD && (src.dims[2] != 1 || src.dims[3] != 1)) {
            throw new IllegalArgumentException("expects [N, " + dn.in() + "] (or [N, " + dn.in()
                    + ", 1, 1]), got " + Arrays.toString(src.dims));
        }
        return src;
    }

    /** oneDNN's weight dimensions {@code [out, in(, 1, 1)]} for an input of {@code rank}. */
    private static long[] weightDims(LoweredOp.Dense dn, int rank) {
        return rank == 4 ? new long[] {dn.out(), dn.in(), 1, 1} : new long[] {dn.out(), dn.in()};
    }

    // --- inference

    static void inference(OneDnnPlan plan, LoweredOp.Dense dn) {
        PlanBuilder b = plan.builder();
        Tensor src = input(b, dn);
        boolean fourD = src.dims.length == 4;
        long[] wDims = weightDims(dn, src.dims.length);
        long[] dstDims = {src.dims[0], dn.out()};
        memory.desc wAny = b.any(wDims);
        memory.desc dstAny = b.any(dstDims);
        inner_product_forward.desc d = dn.bias() == null
                ? b.natives.keep(new inner_product_forward.desc(prop_kind.forward_inference, src.desc, wAny, dstAny))
                : b.natives.keep(new inner_product_forward.desc(prop_kind.forward_inference, src.desc, wAny,
                        b.vector(dn.out()), dstAny));
        post_ops po = b.natives.keep(new post_ops());
        EltwisePrimitives.appendPostOp(po, dn.activation());
        primitive_attr attr = b.natives.keep(new primitive_attr());
        attr.set_post_ops(po);
        inner_product_forward.primitive_desc pd = b.natives.keep(new inner_product_forward.primitive_desc(d, attr,
                b.eng));
        memory weights = plan.constant(dn.weights(), wDims, fourD ? memory.format_tag.oihw : memory.format_tag.oi,
                pd.weights_desc());
        Tensor dst = b.allocate(dstDims, pd.dst_desc());
        IntMemoryMap args = b.natives.args(DNNL_ARG_SRC, src.mem, DNNL_ARG_WEIGHTS, weights, DNNL_ARG_DST, dst.mem);
        if (dn.bias() != null) {
            args.put(DNNL_ARG_BIAS, plan.constant(dn.bias(), new long[] {dn.out()}, memory.format_tag.x, null));
        }
        plan.step(dn.name(), b.natives.keep(new inner_product_forward(pd)), args);
        if (dn.softmax()) {
            softmax_forward.desc sd = b.natives.keep(new softmax_forward.desc(prop_kind.forward_inference, dst.desc,
                    1));
            softmax_forward.primitive_desc spd = b.natives.keep(new softmax_forward.primitive_desc(sd, b.eng));
            plan.step(dn.name() + " (softmax)", b.natives.keep(new softmax_forward(spd)), b.natives.args(
                    DNNL_ARG_SRC, dst.mem, DNNL_ARG_DST, dst.mem));
        }
        b.put(dn.output(), dst);
    }

    // --- training

    static void training(OneDnnTrainingPlan plan, LoweredOp.Dense dn) {
        PlanBuilder b = plan.builder();
        Tensor src = input(b, dn);
        boolean fourD = src.dims.length == 4;
        long n = src.dims[0];
        long[] wDims = weightDims(dn, src.dims.length);
        INDArray wParam = plan.views().param(dn.name(), "W"); // DL4J: [in, out]
        memory.desc wUserDesc = weightsDesc(b, wDims, wParam, fourD);
        long[] dstDims = {n, dn.out()};
        boolean bias = dn.bias() != null;
        memory.desc biasDesc = bias ? b.vector(dn.out()) : null;
        inner_product_forward.desc d = bias
                ? b.natives.keep(new inner_product_forward.desc(plan.forwardKind(), src.desc, b.any(wDims),
                        biasDesc, b.any(dstDims)))
                : b.natives.keep(new inner_product_forward.desc(plan.forwardKind(), src.desc, b.any(wDims),
                        b.any(dstDims)));
        inner_product_forward.primitive_desc pd = b.natives.keep(new inner_product_forward.primitive_desc(d, b.eng));
        memory wUser = plan.viewMemory(wUserDesc, wParam);
        memory w = b.newMemory(pd.weights_desc());
        plan.refresh(plan.reorder(wUser, w));
        boolean dataGradient = plan.needsGradient(dn.input());
        inner_product_backward_data.primitive_desc bdpd = dataGradient
                ? backwardData(b, src.dims, wDims, dstDims, pd) : null;
        memory wForData = dataGradient ? weightsFor(plan, bdpd.weights_desc(), w, pd.weights_desc(), wUser) : null;
        Tensor pre = b.allocate(dstDims, pd.dst_desc());
        IntMemoryMap args = b.natives.args(DNNL_ARG_SRC, src.mem, DNNL_ARG_WEIGHTS, w, DNNL_ARG_DST, pre.mem);
        if (bias) {
            args.put(DNNL_ARG_BIAS, plan.vector(plan.views().param(dn.name(), "b")));
        }
        plan.forward(plan.exec(b.natives.keep(new inner_product_forward(pd)), args));
        EltwisePrimitives.Activated act = dn.softmax() || dn.activation() == Eltwise.NONE ? null
                : EltwisePrimitives.forward(plan, pre, dn.activation());
        Tensor out = act == null ? pre : act.output();
        b.put(dn.output(), out);
        if (dn.softmax()) {
            plan.loss().build(plan, pre);
        }

        plan.backwardOf(out, () -> {
            if (out.diff == null) {
                return;
            }
            memory dPre = act == null ? out.diff : EltwisePrimitives.backward(plan, pre, act);
            memory.desc dPreDesc = act == null ? out.diffDesc : pre.desc;
            inner_product_backward_weights.desc bw = bias
                    ? b.natives.keep(new inner_product_backward_weights.desc(src.desc, b.any(wDims), biasDesc,
                            b.any(dstDims)))
                    : b.natives.keep(new inner_product_backward_weights.desc(src.desc, b.any(wDims),
                            b.any(dstDims)));
            inner_product_backward_weights.primitive_desc bwpd =
                    b.natives.keep(new inner_product_backward_weights.primitive_desc(bw, b.eng, pd));
            memory dDst = plan.convert(dPre, dPreDesc, bwpd.diff_dst_desc());
            memory dW = b.newMemory(bwpd.diff_weights_desc());
            IntMemoryMap bargs = b.natives.args(DNNL_ARG_SRC, plan.convert(src.mem, src.desc, bwpd.src_desc()),
                    DNNL_ARG_DIFF_DST, dDst, DNNL_ARG_DIFF_WEIGHTS, dW);
            if (bias) {
                bargs.put(DNNL_ARG_DIFF_BIAS, plan.vector(plan.views().gradient(dn.name(), "b")));
            }
            plan.backward(plan.exec(b.natives.keep(new inner_product_backward_weights(bwpd)), bargs));
            INDArray wGrad = plan.views().gradient(dn.name(), "W");
            plan.backward(plan.reorder(dW, plan.viewMemory(weightsDesc(b, wDims, wGrad, fourD), wGrad)));
            if (dataGradient) {
                memory dSrc = plan.contributionTarget(src, bdpd.diff_src_desc());
                plan.backward(plan.exec(b.natives.keep(new inner_product_backward_data(bdpd)), b.natives.args(
                        DNNL_ARG_DIFF_DST, plan.convert(dPre, dPreDesc, bdpd.diff_dst_desc()), DNNL_ARG_WEIGHTS,
                        wForData, DNNL_ARG_DIFF_SRC, dSrc)));
                plan.contributed(src, dSrc, bdpd.diff_src_desc());
            }
        });
    }

    /**
     * The backward-data pass of a dense layer, reading the weights in the forward pass's format where oneDNN has a jit
     * kernel for it: another format costs a reorder of all the weights at every step (B0's 1000×1280 head: ~30 ms per
     * step through oneDNN's generic reorder between the two padded blocked formats).
     */
    private static inner_product_backward_data.primitive_desc backwardData(PlanBuilder b, long[] srcDims,
            long[] wDims, long[] dstDims, inner_product_forward.primitive_desc forwardPd) {
        try {
            inner_product_backward_data.primitive_desc same = b.natives.keep(new inner_product_backward_data
                    .primitive_desc(b.natives.keep(new inner_product_backward_data.desc(b.any(srcDims),
                    forwardPd.weights_desc(), b.any(dstDims))), b.eng, forwardPd));
            if (!KernelChoice.isReference(KernelChoice.impl(same))) {
                return same;
            }
        } catch (RuntimeException unsupported) {
            // no implementation for that weights format: let oneDNN choose one
        }
        return b.natives.keep(new inner_product_backward_data.primitive_desc(b.natives.keep(
                new inner_product_backward_data.desc(b.any(srcDims), b.any(wDims), b.any(dstDims))), b.eng,
                forwardPd));
    }

    /**
     * The weights in the format {@code wanted}: the forward pass's copy {@code w} if it has that format, else a copy
     * refreshed from the network's own array {@code wUser} before each step (made while the forward pass is built, so
     * no backward temporary shares its buffer). Reordering {@code w} itself would go from one padded
     * blocked format to another through oneDNN's generic reorder (B0's 1000×1280 head: ~30 ms per step), while the
     * network's plain array reorders with a jit kernel.
     */
    private static memory weightsFor(OneDnnTrainingPlan plan, memory.desc wanted, memory w, memory.desc wDesc,
                                     memory wUser) {
        if (wanted.equals(wDesc)) {
            return w;
        }
        memory copy = plan.builder().newMemory(wanted);
        plan.refresh(plan.reorder(wUser, copy));
        return copy;
    }

    /** DL4J's dense weights {@code [in, out]} (any strides) as oneDNN's {@code [out, in(, 1, 1)]}. */
    private static memory.desc weightsDesc(PlanBuilder b, long[] wDims, INDArray view, boolean fourD) {
        long[] s = view.stride();
        return b.strided(wDims, fourD ? new long[] {s[1], s[0], 1, 1} : new long[] {s[1], s[0]});
    }
}
