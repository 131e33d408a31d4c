package io.efficientnet.core.onednn;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.binary;
import org.bytedeco.dnnl.convolution_forward;
import org.bytedeco.dnnl.eltwise_forward;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.inner_product_forward;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.pooling_forward;
import org.bytedeco.dnnl.post_ops;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.primitive_attr;
import org.bytedeco.dnnl.primitive_desc_base;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.softmax_forward;
import org.bytedeco.dnnl.stream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.pointers.PagedPointer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_0;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_1;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.algorithm;
import static org.bytedeco.dnnl.global.dnnl.prop_kind;

/**
 * A {@link LoweredNetwork} compiled for one input shape {@code [N, C, H, W]}: oneDNN primitives in execution order,
 * every intermediate tensor in the memory format its producer chose (blocked layouts stay blocked from one op to
 * the next; reorders only where a consumer wants another format), weights reordered once, activation buffers
 * reused once their last reader has run. {@link #run} is not thread-safe.
 */
final class OneDnnPlan implements PlanCache.Plan {

    private static final memory.data_type F32 = memory.data_type.f32;

    /** One primitive execution. */
    private record Step(String label, primitive primitive, IntMemoryMap args, String impl) {
    }

    /** An intermediate tensor while the plan is built. */
    private static final class Tensor {
        final long[] dims;
        final memory.desc desc;
        final memory mem;
        BufferPool.Buffer buffer; // null: not owned by the pool (input, or handed over to another tensor)
        boolean collapsed;

        Tensor(long[] dims, memory.desc desc, memory mem, BufferPool.Buffer buffer) {
            this.dims = dims;
            this.desc = desc;
            this.mem = mem;
            this.buffer = buffer;
        }
    }

    /** A network output: copied into a new plain array after every run. */
    private record Output(long[] shape, memory mem) {
    }

    private final engine eng;
    private final stream strm;
    private final ActivationLayout layout;
    private final BufferPool pool = new BufferPool();
    private final NativeScope natives = new NativeScope();
    private final List<Step> steps = new ArrayList<>();
    private final Map<String, Tensor> tensors = new HashMap<>();
    private final Map<String, Integer> lastUse = new HashMap<>();
    private final memory inputMem;
    private final List<Output> outputs = new ArrayList<>();

    OneDnnPlan(LoweredNetwork net, long[] inputShape, ActivationLayout layout, engine eng, stream strm) {
        this.eng = eng;
        this.strm = strm;
        this.layout = layout;
        if (inputShape.length != 4 || inputShape[1] != net.inputChannels()) {
            throw new IllegalArgumentException("input shape " + Arrays.toString(inputShape) + ": expected [N, "
                    + net.inputChannels() + ", H, W]");
        }
        try {
            liveness(net);
            memory.desc inDesc = natives.keep(new memory.desc(inputShape, F32, memory.format_tag.nchw));
            inputMem = natives.keep(new memory(inDesc, eng, (Pointer) null));
            tensors.put(net.input(), new Tensor(inputShape.clone(), inDesc, inputMem, null));
            for (int i = 0; i < net.ops().size(); i++) {
                LoweredOp op = net.ops().get(i);
                try {
                    build(op, i);
                } catch (RuntimeException e) {
                    throw new IllegalArgumentException("op '" + op.name() + "' (" + op.getClass().getSimpleName()
                            + ") for input " + Arrays.toString(inputShape) + ": " + e.getMessage(), e);
                }
            }
            for (String name : net.outputs()) {
                addOutput(tensors.get(name));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Bytes of activation buffers (weights and oneDNN's scratchpads not included). */
    long activationBytes() {
        return pool.allocatedBytes();
    }

    /** Implementation oneDNN chose for each primitive, e.g. {@code block2a_dwconv: jit:avx2}. */
    List<String> implementations() {
        return steps.stream().map(s -> s.label() + ": " + s.impl()).toList();
    }

    /**
     * Runs the network on {@code input} (float32, c order, not a view, of this plan's shape) and returns new
     * float32 arrays outside any workspace.
     */
    INDArray[] run(INDArray input) {
        inputMem.set_data_handle(new PagedPointer(input.data().address()));
        INDArray[] result = new INDArray[outputs.size()];
        for (int i = 0; i < result.length; i++) {
            result[i] = Nd4j.createUninitializedDetached(DataType.FLOAT, outputs.get(i).shape());
            outputs.get(i).mem().set_data_handle(new PagedPointer(result[i].data().address()));
        }
        for (Step s : steps) {
            s.primitive().execute(strm, s.args());
        }
        strm._wait();
        return result;
    }

    private void liveness(LoweredNetwork net) {
        for (int i = 0; i < net.ops().size(); i++) {
            for (String t : reads(net.ops().get(i))) {
                lastUse.put(t, i);
            }
        }
        for (String t : net.outputs()) {
            lastUse.put(t, Integer.MAX_VALUE);
        }
    }

    private static List<String> reads(LoweredOp op) {
        if (op instanceof LoweredOp.Conv c) {
            return c.addend() == null ? List.of(c.input()) : List.of(c.input(), c.addend());
        } else if (op instanceof LoweredOp.GlobalPool p) {
            return List.of(p.input());
        } else if (op instanceof LoweredOp.ChannelScale s) {
            return List.of(s.input(), s.scale());
        } else if (op instanceof LoweredOp.Add a) {
            return List.of(a.a(), a.b());
        } else if (op instanceof LoweredOp.Activation a) {
            return List.of(a.input());
        } else if (op instanceof LoweredOp.Dense d) {
            return List.of(d.input());
        }
        throw new IllegalArgumentException(op.getClass().getSimpleName() + " '" + op.name()
                + "' is lowered for training; the inference engine takes GraphLowering.lower");
    }

    private void build(LoweredOp op, int index) {
        List<Tensor> temps = new ArrayList<>();
        if (op instanceof LoweredOp.Conv c) {
            conv(c, index, temps);
        } else if (op instanceof LoweredOp.GlobalPool p) {
            pool(p);
        } else if (op instanceof LoweredOp.ChannelScale s) {
            binaryOp(s.output(), algorithm.binary_mul, s.input(), s.scale(), index, s.name());
        } else if (op instanceof LoweredOp.Add a) {
            binaryOp(a.output(), algorithm.binary_add, a.a(), a.b(), index, a.name());
        } else if (op instanceof LoweredOp.Activation a) {
            activation(a, index);
        } else if (op instanceof LoweredOp.Dense d) {
            dense(d);
        }
        for (Tensor t : temps) {
            release(t);
        }
        for (String t : reads(op)) {
            if (lastUse.get(t) == index) {
                release(tensors.get(t));
            }
        }
    }

    private void conv(LoweredOp.Conv c, int index, List<Tensor> temps) {
        Tensor src = require4d(c.input(), c.inChannels());
        long ih = src.dims[2];
        long iw = src.dims[3];
        long[] padL = new long[2];
        long[] padR = new long[2];
        long oh = outSize(ih, c.kernelH(), c.strideH(), c.same(), c.padH(), padL, padR, 0);
        long ow = outSize(iw, c.kernelW(), c.strideW(), c.same(), c.padW(), padL, padR, 1);
        if (oh < 1 || ow < 1) {
            throw new IllegalArgumentException("input " + ih + "×" + iw + " is too small for a " + c.kernelH() + "×"
                    + c.kernelW() + " kernel");
        }
        long n = src.dims[0];
        long g = c.groups();
        long[] wDims = g == 1 ? new long[] {c.outChannels(), c.inChannels(), c.kernelH(), c.kernelW()}
                : new long[] {g, c.outChannels() / g, c.inChannels() / g, c.kernelH(), c.kernelW()};
        long[] dstDims = {n, c.outChannels(), oh, ow};
        memory.desc wAny = natives.keep(new memory.desc(wDims, F32, memory.format_tag.any));
        long[] strides = {c.strideH(), c.strideW()};
        post_ops po = natives.keep(new post_ops());
        appendEltwise(po, c.activation());
        if (c.addend() != null) {
            po.append_sum(); // scale 1: dst = conv(...) + dst
        }
        primitive_attr attr = natives.keep(new primitive_attr());
        attr.set_post_ops(po);
        // the network input stays in its plain format: the first convolution reads it as it is
        boolean plainInput = src.mem == inputMem;
        convolution_forward.primitive_desc pd = KernelChoice.choose(c.name(), layout, tag -> {
            memory.desc srcDesc = plainInput ? src.desc : desc(src.dims, tag);
            memory.desc dstDesc = desc(dstDims, tag);
            convolution_forward.desc d = c.bias() == null
                    ? natives.keep(new convolution_forward.desc(prop_kind.forward_inference,
                            algorithm.convolution_direct, srcDesc, wAny, dstDesc, strides, padL, padR))
                    : natives.keep(new convolution_forward.desc(prop_kind.forward_inference,
                            algorithm.convolution_direct, srcDesc, wAny, desc(new long[] {c.outChannels()},
                                    memory.format_tag.x), dstDesc, strides, padL, padR));
            return natives.keep(new convolution_forward.primitive_desc(d, attr, eng));
        });

        Tensor in = src;
        if (!src.desc.equals(pd.src_desc())) {
            in = reorderInto(src, pd.src_desc(), c.name() + " (input reorder)");
            temps.add(in);
        }
        memory weights = constant(c.weights(), wDims, g == 1 ? memory.format_tag.oihw : memory.format_tag.goihw,
                pd.weights_desc());
        Tensor dst;
        if (c.addend() != null) {
            Tensor addend = require4d(c.addend(), c.outChannels());
            if (!Arrays.equals(addend.dims, dstDims)) {
                throw new IllegalArgumentException("residual add of " + Arrays.toString(addend.dims) + " to "
                        + Arrays.toString(dstDims));
            }
            if (lastUse.get(c.addend()) == index && addend.buffer != null && addend.desc.equals(pd.dst_desc())) {
                dst = new Tensor(dstDims, addend.desc, addend.mem, addend.buffer); // sum in place
                addend.buffer = null;
            } else {
                dst = allocate(dstDims, pd.dst_desc());
                reorderStep(c.name() + " (residual copy)", addend.mem, dst.mem);
            }
        } else {
            dst = allocate(dstDims, pd.dst_desc());
        }
        IntMemoryMap args = natives.args(DNNL_ARG_SRC, in.mem, DNNL_ARG_WEIGHTS, weights, DNNL_ARG_DST, dst.mem);
        if (c.bias() != null) {
            args.put(DNNL_ARG_BIAS, constant(c.bias(), new long[] {c.outChannels()}, memory.format_tag.x, null));
        }
        step(c.name(), natives.keep(new convolution_forward(pd)), args, impl(pd));
        tensors.put(c.output(), dst);
    }

    /** Output size along one axis; writes the left and right padding oneDNN needs at {@code axis}. */
    static long outSize(long in, int k, int s, boolean same, int pad, long[] padL, long[] padR, int axis) {
        long out;
        long total;
        if (same) {
            out = (in + s - 1) / s;
            total = Math.max((out - 1) * s + k - in, 0);
            padL[axis] = total / 2;
        } else {
            out = (in + 2L * pad - k) / s + 1;
            total = (out - 1) * s + k - in;
            padL[axis] = pad;
        }
        padR[axis] = total - padL[axis];
        return out;
    }

    private void pool(LoweredOp.GlobalPool p) {
        Tensor given = require4d(p.input(), -1);
        long[] dstDims = {given.dims[0], given.dims[1], 1, 1};
        pooling_forward.primitive_desc pd = KernelChoice.choose(p.name(), layout, tag -> {
            pooling_forward.desc d = natives.keep(new pooling_forward.desc(prop_kind.forward_inference,
                    p.max() ? algorithm.pooling_max : algorithm.pooling_avg_exclude_padding, desc(given.dims, tag),
                    desc(dstDims, tag), new long[] {1, 1}, new long[] {given.dims[2], given.dims[3]},
                    new long[] {0, 0}, new long[] {0, 0}));
            return natives.keep(new pooling_forward.primitive_desc(d, eng));
        });
        Tensor src = inFormat(given, pd.src_desc(), p.name());
        Tensor dst = allocate(dstDims, pd.dst_desc());
        dst.collapsed = p.collapse();
        step(p.name(), natives.keep(new pooling_forward(pd)), natives.args(DNNL_ARG_SRC, src.mem, DNNL_ARG_DST,
                dst.mem), impl(pd));
        if (src != given) {
            release(src);
        }
        tensors.put(p.output(), dst);
    }

    private void binaryOp(String output, algorithm alg, String a, String b, int index, String label) {
        Tensor src0 = require4d(a, -1);
        Tensor src1 = require4d(b, src0.dims[1]);
        boolean broadcast = alg == algorithm.binary_mul;
        if (broadcast ? src1.dims[0] != src0.dims[0] || src1.dims[2] != 1 || src1.dims[3] != 1
                : !Arrays.equals(src0.dims, src1.dims)) {
            throw new IllegalArgumentException("cannot " + (broadcast ? "scale " : "add ") + Arrays.toString(src0.dims)
                    + " by " + Arrays.toString(src1.dims));
        }
        binary.primitive_desc pd = KernelChoice.choose(label, layout, tag -> {
            memory.desc d0 = desc(src0.dims, tag);
            binary.desc d = natives.keep(new binary.desc(alg, d0, desc(src1.dims, tag), d0));
            return natives.keep(new binary.primitive_desc(d, eng));
        });
        Tensor in0 = inFormat(src0, pd.src0_desc(), label);
        Tensor in1 = inFormat(src1, pd.src1_desc(), label);
        Tensor dst = in0 != src0 ? in0 : inPlaceOrNew(a, src0, index);
        step(label, natives.keep(new binary(pd)), natives.args(DNNL_ARG_SRC_0, in0.mem, DNNL_ARG_SRC_1, in1.mem,
                DNNL_ARG_DST, dst.mem), impl(pd));
        if (in1 != src1) {
            release(in1);
        }
        tensors.put(output, dst);
    }

    private void activation(LoweredOp.Activation a, int index) {
        Tensor given = tensor(a.input());
        // (small maps in a padded blocked format can have only a reference element-wise kernel: KernelChoice)
        eltwise_forward.primitive_desc pd = given.dims.length != 4 ? eltwise(given.desc, a.activation())
                : KernelChoice.choose(a.name(), layout, tag -> eltwise(desc(given.dims, tag), a.activation()));
        Tensor src = inFormat(given, pd.src_desc(), a.name());
        Tensor dst = src != given ? src : inPlaceOrNew(a.input(), src, index);
        dst.collapsed = given.collapsed;
        step(a.name(), natives.keep(new eltwise_forward(pd)), natives.args(DNNL_ARG_SRC, src.mem, DNNL_ARG_DST,
                dst.mem), impl(pd));
        tensors.put(a.output(), dst);
    }

    private eltwise_forward.primitive_desc eltwise(memory.desc src, Eltwise e) {
        return natives.keep(new eltwise_forward.primitive_desc(natives.keep(new eltwise_forward.desc(
                prop_kind.forward_inference, algorithmOf(e), src, alpha(e), beta(e))), eng));
    }

    private void dense(LoweredOp.Dense dn) {
        Tensor src = tensor(dn.input());
        boolean fourD = src.dims.length == 4;
        if (src.dims[1] != dn.in() || fourD && (src.dims[2] != 1 || src.dims[3] != 1)) {
            throw new IllegalArgumentException("expects [N, " + dn.in() + "] (or [N, " + dn.in()
                    + ", 1, 1]), got " + Arrays.toString(src.dims));
        }
        long n = src.dims[0];
        long[] wDims = fourD ? new long[] {dn.out(), dn.in(), 1, 1} : new long[] {dn.out(), dn.in()};
        long[] dstDims = {n, dn.out()};
        memory.desc wAny = natives.keep(new memory.desc(wDims, F32, memory.format_tag.any));
        memory.desc dstAny = natives.keep(new memory.desc(dstDims, F32, memory.format_tag.any));
        inner_product_forward.desc d = dn.bias() == null
                ? natives.keep(new inner_product_forward.desc(prop_kind.forward_inference, src.desc, wAny, dstAny))
                : natives.keep(new inner_product_forward.desc(prop_kind.forward_inference, src.desc, wAny,
                        natives.keep(new memory.desc(new long[] {dn.out()}, F32, memory.format_tag.x)), dstAny));
        post_ops po = natives.keep(new post_ops());
        appendEltwise(po, dn.activation());
        primitive_attr attr = natives.keep(new primitive_attr());
        attr.set_post_ops(po);
        inner_product_forward.primitive_desc pd = natives.keep(new inner_product_forward.primitive_desc(d, attr, eng));
        memory weights = constant(dn.weights(), wDims, fourD ? memory.format_tag.oihw : memory.format_tag.oi,
                pd.weights_desc());
        Tensor dst = allocate(dstDims, pd.dst_desc());
        IntMemoryMap args = natives.args(DNNL_ARG_SRC, src.mem, DNNL_ARG_WEIGHTS, weights, DNNL_ARG_DST, dst.mem);
        if (dn.bias() != null) {
            args.put(DNNL_ARG_BIAS, constant(dn.bias(), new long[] {dn.out()}, memory.format_tag.x, null));
        }
        step(dn.name(), natives.keep(new inner_product_forward(pd)), args, impl(pd));
        if (dn.softmax()) {
            softmax_forward.desc sd = natives.keep(new softmax_forward.desc(prop_kind.forward_inference, dst.desc, 1));
            softmax_forward.primitive_desc spd = natives.keep(new softmax_forward.primitive_desc(sd, eng));
            step(dn.name() + " (softmax)", natives.keep(new softmax_forward(spd)), natives.args(DNNL_ARG_SRC,
                    dst.mem, DNNL_ARG_DST, dst.mem), impl(spd));
        }
        tensors.put(dn.output(), dst);
    }

    private void addOutput(Tensor t) {
        long[] shape = t.collapsed ? new long[] {t.dims[0], t.dims[1]} : t.dims.clone();
        memory.desc plain = natives.keep(new memory.desc(t.dims, F32, t.dims.length == 4 ? memory.format_tag.nchw
                : memory.format_tag.nc));
        memory out = natives.keep(new memory(plain, eng, (Pointer) null));
        reorderStep("output", t.mem, out);
        outputs.add(new Output(shape, out));
    }

    // --- helpers ---

    private Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalStateException("tensor '" + name + "' is read before it is written");
        }
        return t;
    }

    private Tensor require4d(String name, long channels) {
        Tensor t = tensor(name);
        if (t.dims.length != 4 || t.collapsed || channels >= 0 && t.dims[1] != channels) {
            throw new IllegalArgumentException("tensor '" + name + "' is " + Arrays.toString(t.dims)
                    + (t.collapsed ? " (collapsed to [N, C])" : "") + ", expected [N, "
                    + (channels >= 0 ? channels : "C") + ", H, W]");
        }
        return t;
    }

    private Tensor allocate(long[] dims, memory.desc desc) {
        BufferPool.Buffer b = pool.take(desc.get_size());
        memory.desc owned = natives.keep(new memory.desc(desc.data()));
        return new Tensor(dims, owned, natives.keep(new memory(owned, eng, b.address)), b);
    }

    /** Writes into {@code src}'s buffer when {@code src} is read for the last time here, else into a new one. */
    private Tensor inPlaceOrNew(String name, Tensor src, int index) {
        if (lastUse.get(name) == index && src.buffer != null) {
            Tensor dst = new Tensor(src.dims, src.desc, src.mem, src.buffer);
            src.buffer = null;
            return dst;
        }
        return allocate(src.dims, src.desc);
    }

    private Tensor reorderInto(Tensor src, memory.desc desc, String label) {
        Tensor t = allocate(src.dims, desc);
        reorderStep(label, src.mem, t.mem);
        return t;
    }

    /** {@code t} itself when it has format {@code desc}, else a new tensor it is reordered into before the op. */
    private Tensor inFormat(Tensor t, memory.desc desc, String op) {
        if (t.desc.equals(desc)) {
            return t;
        }
        Tensor r = reorderInto(t, desc, op + " (input reorder)");
        r.collapsed = t.collapsed;
        return r;
    }

    private void reorderStep(String label, memory from, memory to) {
        reorder.primitive_desc pd = natives.keep(new reorder.primitive_desc(from, to));
        step(label, natives.keep(new reorder(pd)), natives.args(DNNL_ARG_FROM, from, DNNL_ARG_TO, to), impl(pd));
    }

    private memory.desc desc(long[] dims, memory.format_tag tag) {
        return natives.keep(new memory.desc(dims, F32, tag));
    }

    private void release(Tensor t) {
        if (t != null && t.buffer != null) {
            pool.give(t.buffer);
            t.buffer = null;
        }
    }

    /** A constant (weights or bias) in oneDNN's preferred format {@code target} (or as given when null). */
    private memory constant(float[] values, long[] dims, memory.format_tag tag, memory.desc target) {
        memory.desc plainDesc = natives.keep(new memory.desc(dims, F32, tag));
        if (target == null || plainDesc.equals(target)) {
            return natives.keep(new memory(plainDesc, eng, natives.keep(new FloatPointer(values))));
        }
        memory.desc targetDesc = natives.keep(new memory.desc(target.data()));
        memory converted = natives.keep(new memory(targetDesc, eng));
        // the plain copy is only needed for the reorder: freed right after, so the weights are held once natively
        try (FloatPointer data = new FloatPointer(values);
             memory plain = new memory(plainDesc, eng, data);
             reorder r = new reorder(plain, converted)) {
            r.execute(strm, plain, converted);
            strm._wait();
        }
        return converted;
    }

    private void step(String label, primitive p, IntMemoryMap args, String impl) {
        steps.add(new Step(label, p, args, impl));
    }

    private static String impl(primitive_desc_base pd) {
        return KernelChoice.impl(pd);
    }

    private static void appendEltwise(post_ops po, Eltwise e) {
        if (e != Eltwise.NONE) {
            po.append_eltwise(1f, algorithmOf(e), alpha(e), beta(e));
        }
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

    @Override
    public void close() {
        steps.clear();
        natives.close();
        pool.close();
    }
}
