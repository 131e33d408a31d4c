package io.efficientnet.core.onednn;

import org.bytedeco.dnnl.eltwise_backward;
import org.bytedeco.dnnl.eltwise_forward;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.post_ops;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.algorithm;
import static org.bytedeco.dnnl.global.dnnl.prop_kind;

/**
 * Activations ({@link Eltwise}) as oneDNN eltwise primitives and post-ops: a stand-alone {@link LoweredOp.Activation}
 * for inference and training, and the forward and backward of an activation that ends another op in training.
 */
final class EltwisePrimitives {

    private EltwisePrimitives() {
    }

    /** A training activation's forward: the input it read (reordered for a jit kernel) and its primitive. */
    record Activated(Tensor input, Tensor output, eltwise_forward.primitive_desc pd, Eltwise activation) {
    }

    // --- inference

    static void inference(OneDnnPlan plan, LoweredOp.Activation a, int index) {
        PlanBuilder b = plan.builder();
        Tensor given = b.tensor(a.input());
        // (small maps in a padded blocked format can have only a reference element-wise kernel: KernelChoice)
        eltwise_forward.primitive_desc pd = given.dims.length != 4
                ? primitive(b, prop_kind.forward_inference, given.desc, a.activation())
                : b.choose(a.name(), tag -> primitive(b, prop_kind.forward_inference, b.desc(given.dims, tag),
                        a.activation()));
        Tensor src = plan.inFormat(given, pd.src_desc(), a.name());
        Tensor dst = src != given ? src : plan.inPlaceOrNew(a.input(), src, index);
        dst.collapsed = given.collapsed;
        plan.step(a.name(), b.natives.keep(new eltwise_forward(pd)), b.natives.args(DNNL_ARG_SRC, src.mem,
                DNNL_ARG_DST, dst.mem));
        b.put(a.output(), dst);
    }

    /** Appends {@code e} (unless {@link Eltwise#NONE}) to an op's post-ops. */
    static void appendPostOp(post_ops po, Eltwise e) {
        if (e != Eltwise.NONE) {
            po.append_eltwise(1f, algorithmOf(e), alpha(e), beta(e));
        }
    }

    // --- training

    static void training(OneDnnTrainingPlan plan, LoweredOp.Activation a) {
        Tensor src = plan.builder().tensor(a.input());
        Activated act = forward(plan, src, a.activation());
        plan.builder().put(a.output(), act.output());
        plan.backwardOf(act.output(), () -> {
            if (act.output().diff == null) {
                return;
            }
            memory dSrc = backward(plan, src, act);
            plan.accumulateOwned(src, dSrc, src.desc);
        });
    }

    /** {@code act(given)} into a new tensor; the caller builds its backward ({@link #backward}). */
    static Activated forward(OneDnnTrainingPlan plan, Tensor given, Eltwise e) {
        PlanBuilder b = plan.builder();
        eltwise_forward.primitive_desc pd = given.dims.length != 4
                ? primitive(b, plan.forwardKind(), given.desc, e)
                : b.choose(plan.building(), tag -> primitive(b, plan.forwardKind(), b.desc(given.dims, tag), e));
        Tensor src = plan.asFormat(given, pd.src_desc());
        Tensor dst = b.allocate(src.dims, pd.dst_desc());
        dst.collapsed = src.collapsed;
        plan.forward(plan.exec(b.natives.keep(new eltwise_forward(pd)), b.natives.args(DNNL_ARG_SRC, src.mem,
                DNNL_ARG_DST, dst.mem)));
        return new Activated(src, dst, pd, e);
    }

    /**
     * The gradient at {@code src} of {@code act.output() = act(src)}, given the output's gradient: a new memory in
     * {@code src}'s format.
     */
    static memory backward(OneDnnTrainingPlan plan, Tensor src, Activated act) {
        PlanBuilder b = plan.builder();
        Tensor in = act.input(); // src, or src reordered for a jit kernel
        Tensor out = act.output();
        Eltwise e = act.activation();
        eltwise_backward.desc d = b.natives.keep(new eltwise_backward.desc(algorithmOf(e), in.desc, in.desc, alpha(e),
                beta(e)));
        eltwise_backward.primitive_desc pd = b.natives.keep(new eltwise_backward.primitive_desc(d, b.eng, act.pd()));
        memory dOut = plan.convert(out.diff, out.diffDesc, in.desc);
        memory dIn = b.newMemory(in.desc);
        plan.backward(plan.exec(b.natives.keep(new eltwise_backward(pd)), b.natives.args(DNNL_ARG_SRC, in.mem,
                DNNL_ARG_DIFF_DST, dOut, DNNL_ARG_DIFF_SRC, dIn)));
        return plan.convert(dIn, in.desc, src.desc);
    }

    /**
     * A step writing {@code factor · from} to {@code to} (both of format {@code desc}; may be the same memory), for
     * training's backward pass.
     */
    static Runnable scale(OneDnnTrainingPlan plan, memory from, memory to, memory.desc desc, float factor) {
        PlanBuilder b = plan.builder();
        eltwise_forward.desc d = b.natives.keep(new eltwise_forward.desc(prop_kind.forward_inference,
                algorithm.eltwise_linear, desc, factor, 0f));
        eltwise_forward.primitive_desc pd = b.natives.keep(new eltwise_forward.primitive_desc(d, b.eng));
        return plan.exec(b.natives.keep(new eltwise_forward(pd)), b.natives.args(DNNL_ARG_SRC, from, DNNL_ARG_DST,
                to));
    }

    // --- oneDNN's names and parameters

    private static eltwise_forward.primitive_desc primitive(PlanBuilder b, prop_kind kind, memory.desc src,
                                                             Eltwise e) {
        return b.natives.keep(new eltwise_forward.primitive_desc(b.natives.keep(new eltwise_forward.desc(kind,
                algorithmOf(e), src, alpha(e), beta(e))), b.eng));
    }

    static algorithm algorithmOf(Eltwise e) {
        return switch (e) {
            case SWISH -> algorithm.eltwise_swish;
            case SIGMOID -> algorithm.eltwise_logistic;
            case RELU -> algorithm.eltwise_relu;
            case RELU6 -> algorithm.eltwise_clip;
            case TANH -> algorithm.eltwise_tanh;
            case NONE -> throw new IllegalArgumentException("no eltwise for NONE");
        };
    }

    static float alpha(Eltwise e) {
        return e == Eltwise.SWISH ? 1f : 0f; // swish: x·σ(alpha·x); clip: [alpha, beta]; relu: negative slope
    }

    static float beta(Eltwise e) {
        return e == Eltwise.RELU6 ? 6f : 0f;
    }
}
