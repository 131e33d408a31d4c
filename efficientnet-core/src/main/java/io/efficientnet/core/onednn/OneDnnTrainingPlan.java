package io.efficientnet.core.onednn;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.batch_normalization_backward;
import org.bytedeco.dnnl.batch_normalization_forward;
import org.bytedeco.dnnl.binary;
import org.bytedeco.dnnl.convolution_backward_data;
import org.bytedeco.dnnl.convolution_backward_weights;
import org.bytedeco.dnnl.convolution_forward;
import org.bytedeco.dnnl.eltwise_backward;
import org.bytedeco.dnnl.eltwise_forward;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.inner_product_backward_data;
import org.bytedeco.dnnl.inner_product_backward_weights;
import org.bytedeco.dnnl.inner_product_forward;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.pooling_backward;
import org.bytedeco.dnnl.pooling_forward;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.stream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.memory.pointers.PagedPointer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SCALE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SHIFT;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_MEAN;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SCALE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SHIFT;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_0;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_1;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_VARIANCE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.algorithm;
import static org.bytedeco.dnnl.global.dnnl.normalization_flags;
import static org.bytedeco.dnnl.global.dnnl.prop_kind;

/**
 * One training step of a {@link LoweredNetwork} (lowered for training) for one input shape, as oneDNN primitives:
 * the forward pass with batch statistics, softmax cross-entropy, and the backward pass, every activation and
 * activation gradient in the blocked format oneDNN chooses. Weights are read from the network's parameter views and
 * gradients written into its gradient views (the DL4J layouts) by reorders at every step, so the network's own
 * updater takes the step afterwards. Java-side work (dropout masks, the loss, batch norm's running-statistic updates)
 * runs between primitives. Not thread-safe.
 */
final class OneDnnTrainingPlan implements PlanCache.Plan {

    private static final memory.data_type F32 = memory.data_type.f32;

    /** The network's parameter and gradient arrays of one parameter, by {@code <layer>_<param>}. */
    interface Views {
        /** The parameter array (a view of the network's parameters). */
        INDArray param(String layer, String key);

        /** The gradient array the step must fill (a view of the network's flattened gradients). */
        INDArray gradient(String layer, String key);

        /** Called after the forward pass of a batch norm with the batch mean and biased variance per channel. */
        void batchStatistics(String layer, double[] mean, double[] variance);
    }

    /** A forward tensor: value, and (once the backward pass reaches it) its gradient. */
    private static final class Tensor {
        final long[] dims;
        final memory.desc desc;
        final memory mem;
        boolean collapsed;
        memory diff; // null until the first gradient contribution
        memory.desc diffDesc;

        Tensor(long[] dims, memory.desc desc, memory mem) {
            this.dims = dims;
            this.desc = desc;
            this.mem = mem;
        }
    }

    private final engine eng;
    private final stream strm;
    private final ActivationLayout layout;
    private final Views views;
    private final long classes;
    private final NativeScope natives = new NativeScope();
    private final BufferPool pool = new BufferPool();
    /** Steps of one training step, in order: weight refresh, forward, loss, backward, gradient write-back. */
    private final List<Runnable> refresh = new ArrayList<>();
    private final List<Runnable> forward = new ArrayList<>();
    private final List<Runnable> backward = new ArrayList<>();
    private final Map<String, Tensor> tensors = new HashMap<>();
    /** The forward primitive of each activation's output (its backward needs it as a hint). */
    private final Map<Tensor, eltwise_forward.primitive_desc> eltwisePds = new HashMap<>();
    /** The input each activation's forward primitive read (its backward reads it too). */
    private final Map<Tensor, Tensor> eltwiseInputs = new HashMap<>();
    /** Gradients started by a first contribution that {@link #contributed} has not yet seen. */
    private final Map<Tensor, memory> pendingFirst = new HashMap<>();
    private final memory inputMem;
    private final String inputName;
    /** Per-op backward builders, run in reverse order once the forward pass is built. */
    private final List<Backward> backwardBuilders = new ArrayList<>();

    /** Builds the backward steps of op {@code op} whose forward output is {@code output}. */
    private record Backward(String op, Tensor output, Runnable build) {
    }

    /** The op whose steps are being built (for {@link #implementations}). */
    private String building = "input";
    /** Each primitive's op and oneDNN implementation, in the order they were built. */
    private final List<String> implementations = new ArrayList<>();

    /** Buffers of memories from {@link #newMemory}, to hand back once a backward step no longer needs them. */
    private final Map<memory, BufferPool.Buffer> buffers = new java.util.IdentityHashMap<>();
    /** Memories allocated by the backward builder that is running (null outside builders). */
    private List<memory> builderAllocations;
    private final float[] logits;
    private final float[] labels;
    private final float[] gradLogits;
    private final FloatPointer logitsNative;
    private final FloatPointer gradLogitsNative;
    private SplittableRandom random = new SplittableRandom(0);
    private double loss;

    OneDnnTrainingPlan(LoweredNetwork net, long[] inputShape, Views views, ActivationLayout layout, engine eng,
                       stream strm) {
        this.eng = eng;
        this.strm = strm;
        this.layout = layout;
        this.views = views;
        this.inputName = net.input();
        LoweredOp.Dense head = (LoweredOp.Dense) net.ops().get(net.ops().size() - 1);
        this.classes = head.out();
        long n = inputShape[0];
        this.logits = new float[Math.toIntExact(n * classes)];
        this.labels = new float[logits.length];
        this.gradLogits = new float[logits.length];
        this.logitsNative = natives.keep(new FloatPointer(logits.length));
        this.gradLogitsNative = natives.keep(new FloatPointer(logits.length));
        try {
            memory.desc inDesc = natives.keep(new memory.desc(inputShape, F32, memory.format_tag.nchw));
            inputMem = natives.keep(new memory(inDesc, eng, (Pointer) null));
            tensors.put(net.input(), new Tensor(inputShape.clone(), inDesc, inputMem));
            for (LoweredOp op : net.ops()) {
                try {
                    building = op.name();
                    build(op);
                } catch (RuntimeException e) {
                    throw new IllegalArgumentException("op '" + op.name() + "' (" + op.getClass().getSimpleName()
                            + ") for input " + Arrays.toString(inputShape) + ": " + e.getMessage(), e);
                }
            }
            for (int i = backwardBuilders.size() - 1; i >= 0; i--) {
                buildBackward(backwardBuilders.get(i));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** oneDNN's implementation of each primitive, e.g. {@code block2a_dwconv: convolution jit_dw:avx2}. */
    List<String> implementations() {
        return List.copyOf(implementations);
    }

    /** Bytes of activation and gradient buffers. */
    long activationBytes() {
        return pool.allocatedBytes();
    }

    /**
     * One forward and backward pass: fills the network's gradient views with sums over the batch's examples (batch
     * norm's running statistics: their updates) and returns the mean loss. {@code x} and {@code y} float32, c order,
     * not views.
     */
    double run(INDArray x, INDArray y, long seed) {
        random = new SplittableRandom(seed);
        inputMem.set_data_handle(new PagedPointer(x.data().address()));
        new FloatPointer(new PagedPointer(y.data().address())).capacity(labels.length).get(labels);
        for (Runnable r : refresh) {
            r.run();
        }
        for (Runnable r : forward) {
            r.run();
        }
        for (Runnable r : backward) {
            r.run();
        }
        strm._wait();
        return loss;
    }

    // ---------------------------------------------------------------- forward

    private void build(LoweredOp op) {
        if (op instanceof LoweredOp.Conv c) {
            conv(c);
        } else if (op instanceof LoweredOp.BatchNorm b) {
            batchNorm(b);
        } else if (op instanceof LoweredOp.Activation a) {
            Tensor src = tensor(a.input());
            Tensor out = eltwise(src, a.activation());
            tensors.put(a.output(), out);
            backwardBuilders.add(backwardOf(out, () -> activationBackward(src, out, a.activation())));
        } else if (op instanceof LoweredOp.Dropout d) {
            dropout(d);
        } else if (op instanceof LoweredOp.GlobalPool p) {
            pool(p);
        } else if (op instanceof LoweredOp.ChannelScale s) {
            channelScale(s);
        } else if (op instanceof LoweredOp.Add a) {
            add(a);
        } else if (op instanceof LoweredOp.Dense d) {
            dense(d);
        } else {
            throw new IllegalArgumentException("not lowered for training");
        }
    }

    private void conv(LoweredOp.Conv c) {
        Tensor src = require4d(c.input(), c.inChannels());
        long[] padL = new long[2];
        long[] padR = new long[2];
        long oh = OneDnnPlan.outSize(src.dims[2], c.kernelH(), c.strideH(), c.same(), c.padH(), padL, padR, 0);
        long ow = OneDnnPlan.outSize(src.dims[3], c.kernelW(), c.strideW(), c.same(), c.padW(), padL, padR, 1);
        long g = c.groups();
        long[] wDims = g == 1 ? new long[] {c.outChannels(), c.inChannels(), c.kernelH(), c.kernelW()}
                : new long[] {g, c.outChannels() / g, c.inChannels() / g, c.kernelH(), c.kernelW()};
        long[] dstDims = {src.dims[0], c.outChannels(), oh, ow};
        long[] strides = {c.strideH(), c.strideW()};
        boolean bias = c.bias() != null;
        memory.desc biasDesc = bias ? vectorDesc(c.outChannels()) : null;
        memory.desc wAny = any(wDims);
        boolean plainInput = src.mem == inputMem; // the first convolution reads the input as it is
        convolution_forward.primitive_desc pd = KernelChoice.choose(c.name(), layout, tag -> {
            memory.desc srcDesc = plainInput ? src.desc : desc(src.dims, tag);
            convolution_forward.desc d = bias
                    ? natives.keep(new convolution_forward.desc(prop_kind.forward_training,
                            algorithm.convolution_direct, srcDesc, wAny, biasDesc, desc(dstDims, tag), strides, padL,
                            padR))
                    : natives.keep(new convolution_forward.desc(prop_kind.forward_training,
                            algorithm.convolution_direct, srcDesc, wAny, desc(dstDims, tag), strides, padL, padR));
            return natives.keep(new convolution_forward.primitive_desc(d, eng));
        });
        Tensor in = asFormat(src, pd.src_desc(), forward);
        // the layer's weights, refreshed from the network's parameters at every step
        INDArray wParam = views.param(c.name(), "W");
        memory wUser = natives.keep(new memory(weightsDesc(c, wDims, wParam), eng, address(wParam)));
        memory w = newMemory(pd.weights_desc());
        refresh.add(reorderStep(wUser, w));
        memory b = bias ? vector(views.param(c.name(), "b")) : null;
        Tensor pre = allocate(dstDims, pd.dst_desc());
        convolution_forward fwd = natives.keep(new convolution_forward(pd));
        IntMemoryMap args = natives.args(DNNL_ARG_SRC, in.mem, DNNL_ARG_WEIGHTS, w, DNNL_ARG_DST, pre.mem);
        if (bias) {
            args.put(DNNL_ARG_BIAS, b);
        }
        forward.add(exec(fwd, args));
        Tensor out = c.activation() == Eltwise.NONE ? pre : eltwise(pre, c.activation());
        tensors.put(c.output(), out);
        boolean needsInputGradient = !c.input().equals(inputName);

        backwardBuilders.add(backwardOf(out, () -> {
            if (out.diff == null) {
                return; // nothing downstream reached this convolution
            }
            memory dPre = pre == out ? out.diff : eltwiseBackward(pre, out, c.activation());
            memory.desc dPreDesc = pre == out ? out.diffDesc : pre.desc;
            INDArray wGrad = views.gradient(c.name(), "W");
            memory gUser = natives.keep(new memory(weightsDesc(c, wDims, wGrad), eng, address(wGrad)));
            if (javaDepthwiseGradient(c, padL, padR) && !bias) {
                depthwiseWeightGradient(c, in, dPre, dPreDesc, wDims, gUser, src.dims);
            } else {
                convWeightGradient(c, pd, in, dPre, dPreDesc, wDims, gUser, src.dims, dstDims, strides, padL, padR,
                        biasDesc);
            }
            if (needsInputGradient) {
                convolution_backward_data.desc bd = natives.keep(new convolution_backward_data.desc(
                        algorithm.convolution_direct, any(src.dims), any(wDims), any(dstDims), strides, padL, padR));
                convolution_backward_data.primitive_desc dpd =
                        natives.keep(new convolution_backward_data.primitive_desc(bd, eng, pd));
                memory wForData = convert(w, pd.weights_desc(), dpd.weights_desc());
                memory dDst2 = convert(dPre, dPreDesc, dpd.diff_dst_desc());
                memory dSrc = contributionTarget(src, dpd.diff_src_desc());
                backward.add(exec(natives.keep(new convolution_backward_data(dpd)), natives.args(DNNL_ARG_DIFF_DST,
                        dDst2, DNNL_ARG_WEIGHTS, wForData, DNNL_ARG_DIFF_SRC, dSrc)));
                contributed(src, dSrc, dpd.diff_src_desc());
            }
        }));
    }

    /**
     * Whether a convolution's weight gradient runs in this project's Vector API kernel: depthwise (multiplier 1),
     * stride 1, odd k ≥ 5, symmetric padding (k − 1)/2. oneDNN 2.5's depthwise weight-gradient kernel handles 3×3
     * only; 5×5 fell back to im2col + GEMM on plain layouts (~85 of ~500 ms of a B0 batch-8 step).
     */
    private static boolean javaDepthwiseGradient(LoweredOp.Conv c, long[] padL, long[] padR) {
        int k = c.kernelH();
        return c.groups() > 1 && c.groups() == c.inChannels() && c.outChannels() == c.inChannels()
                && c.strideH() == 1 && c.strideW() == 1 && k == c.kernelW() && k >= 5 && k % 2 == 1
                && padL[0] == (k - 1) / 2 && padR[0] == padL[0] && padL[1] == padL[0] && padR[1] == padL[0]
                && io.efficientnet.core.kernels.SwishKernels.available();
    }

    private void depthwiseWeightGradient(LoweredOp.Conv c, Tensor in, memory dPre, memory.desc dPreDesc, long[] wDims,
            memory gUser, long[] srcDims) {
        memory.desc plain = natives.keep(new memory.desc(srcDims, F32, memory.format_tag.nchw));
        memory x = convert(in.mem, in.desc, plain);
        memory dz = convert(dPre, dPreDesc, plain);
        long ch = c.inChannels();
        int k = c.kernelH();
        // [k, k, C]: DL4J's [kH, kW, nIn, 1] as goihw
        memory.desc taps = natives.keep(new memory.desc(wDims, F32, new long[] {1, 1, 1, k * ch, ch}));
        memory dw = newMemory(taps);
        long bytes = plain.get_size();
        int n = Math.toIntExact(srcDims[0]);
        int h = Math.toIntExact(srcDims[2]);
        int w = Math.toIntExact(srcDims[3]);
        backward.add(() -> {
            strm._wait();
            io.efficientnet.core.kernels.DepthwiseKernels.weightGradient(buffer(x, bytes), buffer(dz, bytes),
                    buffer(dw, taps.get_size()), n, Math.toIntExact(ch), h, w, k);
        });
        backward.add(reorderStep(dw, gUser));
    }

    private static java.nio.ByteBuffer buffer(memory m, long bytes) {
        return new org.bytedeco.javacpp.BytePointer(m.get_data_handle()).capacity(bytes).asByteBuffer()
                .order(java.nio.ByteOrder.nativeOrder());
    }

    private void convWeightGradient(LoweredOp.Conv c, convolution_forward.primitive_desc pd, Tensor in, memory dPre,
            memory.desc dPreDesc, long[] wDims, memory gUser, long[] srcDims, long[] dstDims, long[] strides,
            long[] padL, long[] padR, memory.desc biasDesc) {
        boolean bias = biasDesc != null;
        convolution_backward_weights.desc bwd = bias
                ? natives.keep(new convolution_backward_weights.desc(algorithm.convolution_direct, any(srcDims),
                        any(wDims), biasDesc, any(dstDims), strides, padL, padR))
                : natives.keep(new convolution_backward_weights.desc(algorithm.convolution_direct, any(srcDims),
                        any(wDims), any(dstDims), strides, padL, padR));
        convolution_backward_weights.primitive_desc bpd =
                natives.keep(new convolution_backward_weights.primitive_desc(bwd, eng, pd));
        memory srcForW = convert(in.mem, in.desc, bpd.src_desc());
        memory dDst = convert(dPre, dPreDesc, bpd.diff_dst_desc());
        memory dW = newMemory(bpd.diff_weights_desc());
        IntMemoryMap bargs = natives.args(DNNL_ARG_SRC, srcForW, DNNL_ARG_DIFF_DST, dDst, DNNL_ARG_DIFF_WEIGHTS, dW);
        if (bias) {
            bargs.put(DNNL_ARG_DIFF_BIAS, vector(views.gradient(c.name(), "b")));
        }
        backward.add(exec(natives.keep(new convolution_backward_weights(bpd)), bargs));
        backward.add(reorderStep(dW, gUser));
    }

    /** The DL4J layout of a convolution's weights (a parameter or gradient view) as a oneDNN descriptor. */
    private memory.desc weightsDesc(LoweredOp.Conv c, long[] wDims, INDArray view) {
        long[] s = view.stride();
        if (c.groups() == 1) {
            return natives.keep(new memory.desc(wDims, F32, s)); // [out, in, kH, kW]
        }
        // DL4J depthwise [kH, kW, in, multiplier] as goihw [in][multiplier][1][kH][kW]
        return natives.keep(new memory.desc(wDims, F32, new long[] {s[2], s[3], 1, s[0], s[1]}));
    }

    /** A per-channel vector view ({@code [1, C]} or {@code [C]}) as a oneDNN memory over the same data. */
    private memory vector(INDArray view) {
        long len = view.length();
        long stride = view.rank() == 1 ? view.stride(0) : view.stride(view.size(0) == 1 ? 1 : 0);
        memory.desc d = natives.keep(new memory.desc(new long[] {len}, F32, new long[] {stride}));
        return natives.keep(new memory(d, eng, address(view)));
    }

    private void batchNorm(LoweredOp.BatchNorm b) {
        Tensor src = require4d(b.input(), b.channels());
        int flags = normalization_flags.use_scale.value | normalization_flags.use_shift.value;
        batch_normalization_forward.desc d = natives.keep(new batch_normalization_forward.desc(
                prop_kind.forward_training.value, src.desc, (float) b.epsilon(), flags));
        batch_normalization_forward.primitive_desc pd =
                natives.keep(new batch_normalization_forward.primitive_desc(d, eng));
        memory gamma = vector(views.param(b.name(), "gamma"));
        memory beta = vector(views.param(b.name(), "beta"));
        memory mean = newMemory(pd.mean_desc());
        memory variance = newMemory(pd.variance_desc());
        Tensor dst = allocate(src.dims, pd.dst_desc());
        forward.add(exec(natives.keep(new batch_normalization_forward(pd)), natives.args(DNNL_ARG_SRC, src.mem,
                DNNL_ARG_SCALE, gamma,
                DNNL_ARG_SHIFT, beta, DNNL_ARG_DST, dst.mem, DNNL_ARG_MEAN, mean, DNNL_ARG_VARIANCE, variance)));
        int c = Math.toIntExact(b.channels());
        forward.add(() -> {
            strm._wait();
            views.batchStatistics(b.name(), doubles(mean, c), doubles(variance, c));
        });
        Tensor out = b.swish() ? eltwise(dst, Eltwise.SWISH) : dst;
        tensors.put(b.output(), out);

        backwardBuilders.add(backwardOf(out, () -> {
            if (out.diff == null) {
                return;
            }
            memory dDst = out == dst ? out.diff : eltwiseBackward(dst, out, Eltwise.SWISH);
            memory.desc dDstDesc = out == dst ? out.diffDesc : dst.desc;
            batch_normalization_backward.desc bd = natives.keep(new batch_normalization_backward.desc(
                    prop_kind.backward.value, dst.desc, src.desc, (float) b.epsilon(), flags));
            batch_normalization_backward.primitive_desc bpd =
                    natives.keep(new batch_normalization_backward.primitive_desc(bd, eng, pd));
            memory dIn = convert(dDst, dDstDesc, bpd.diff_dst_desc());
            memory dSrc = contributionTarget(src, bpd.diff_src_desc());
            memory dGamma = vector(views.gradient(b.name(), "gamma"));
            memory dBeta = vector(views.gradient(b.name(), "beta"));
            backward.add(exec(natives.keep(new batch_normalization_backward(bpd)), natives.args(DNNL_ARG_SRC, src.mem,
                    DNNL_ARG_MEAN, mean, DNNL_ARG_VARIANCE, variance, DNNL_ARG_DIFF_DST, dIn, DNNL_ARG_SCALE, gamma,
                    DNNL_ARG_SHIFT, beta, DNNL_ARG_DIFF_SRC, dSrc, DNNL_ARG_DIFF_SCALE, dGamma, DNNL_ARG_DIFF_SHIFT,
                    dBeta)));
            contributed(src, dSrc, bpd.diff_src_desc());
        }));
    }

    /** {@code act(src)} into a new tensor; its backward is built by the caller ({@link #eltwiseBackward}). */
    private Tensor eltwise(Tensor given, Eltwise e) {
        eltwise_forward.primitive_desc pd = given.dims.length != 4 ? eltwiseForward(given.desc, e)
                : KernelChoice.choose(building, layout, tag -> eltwiseForward(desc(given.dims, tag), e));
        Tensor src = asFormat(given, pd.src_desc(), forward);
        Tensor dst = allocate(src.dims, pd.dst_desc());
        dst.collapsed = src.collapsed;
        forward.add(exec(natives.keep(new eltwise_forward(pd)), natives.args(DNNL_ARG_SRC, src.mem, DNNL_ARG_DST,
                dst.mem)));
        eltwisePds.put(dst, pd);
        eltwiseInputs.put(dst, src);
        return dst;
    }

    private eltwise_forward.primitive_desc eltwiseForward(memory.desc src, Eltwise e) {
        eltwise_forward.desc d = natives.keep(new eltwise_forward.desc(prop_kind.forward_training,
                OneDnnPlan.algorithmOf(e), src, OneDnnPlan.alpha(e), OneDnnPlan.beta(e)));
        return natives.keep(new eltwise_forward.primitive_desc(d, eng));
    }

    /**
     * The gradient at {@code src} of {@code out = act(src)}, given {@code out}'s gradient: a new memory in
     * {@code src}'s format.
     */
    private memory eltwiseBackward(Tensor src, Tensor out, Eltwise e) {
        Tensor in = eltwiseInputs.get(out); // src, or src reordered for a jit kernel
        eltwise_backward.desc d = natives.keep(new eltwise_backward.desc(OneDnnPlan.algorithmOf(e), in.desc, in.desc,
                OneDnnPlan.alpha(e), OneDnnPlan.beta(e)));
        eltwise_backward.primitive_desc pd = natives.keep(new eltwise_backward.primitive_desc(d, eng,
                eltwisePds.get(out)));
        memory dOut = convert(out.diff, out.diffDesc, in.desc);
        memory dIn = newMemory(in.desc);
        backward.add(exec(natives.keep(new eltwise_backward(pd)), natives.args(DNNL_ARG_SRC, in.mem,
                DNNL_ARG_DIFF_DST, dOut, DNNL_ARG_DIFF_SRC, dIn)));
        return convert(dIn, in.desc, src.desc);
    }

    /** The backward of a stand-alone {@link LoweredOp.Activation}: its input's gradient contribution. */
    private void activationBackward(Tensor src, Tensor out, Eltwise e) {
        if (out.diff == null) {
            return;
        }
        memory dSrc = eltwiseBackward(src, out, e);
        accumulateOwned(src, dSrc, src.desc);
    }

    private void dropout(LoweredOp.Dropout d) {
        Tensor src = tensor(d.input());
        if (d.retain() >= 1.0) {
            tensors.put(d.output(), src);
            return;
        }
        Tensor dst = allocate(src.dims, src.desc);
        dst.collapsed = src.collapsed;
        long n = src.dims[0];
        int elements = Math.toIntExact(src.desc.get_size() / Float.BYTES);
        int perExample = Math.toIntExact(elements / n);
        float keepScale = (float) (1.0 / d.retain());
        float[] mask = new float[d.perExample() ? Math.toIntExact(n) : elements];
        forward.add(() -> {
            strm._wait();
            for (int i = 0; i < mask.length; i++) {
                mask[i] = random.nextDouble() < d.retain() ? keepScale : 0f;
            }
            applyMask(src.mem, dst.mem, mask, d.perExample(), perExample, elements);
        });
        tensors.put(d.output(), dst);
        backwardBuilders.add(backwardOf(dst, () -> {
            if (dst.diff == null) {
                return;
            }
            memory dOut = convert(dst.diff, dst.diffDesc, dst.desc);
            memory dSrc = newMemory(src.desc);
            backward.add(() -> {
                strm._wait();
                applyMask(dOut, dSrc, mask, d.perExample(), perExample, elements);
            });
            accumulateOwned(src, dSrc, src.desc);
        }));
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

    private void pool(LoweredOp.GlobalPool p) {
        Tensor src = require4d(p.input(), -1);
        long[] dstDims = {src.dims[0], src.dims[1], 1, 1};
        long[] kernel = {src.dims[2], src.dims[3]};
        long[] ones = {1, 1};
        long[] zeros = {0, 0};
        pooling_forward.desc d = natives.keep(new pooling_forward.desc(prop_kind.forward_training,
                algorithm.pooling_avg_exclude_padding, src.desc, any(dstDims), ones, kernel, zeros, zeros));
        pooling_forward.primitive_desc pd = natives.keep(new pooling_forward.primitive_desc(d, eng));
        Tensor dst = allocate(dstDims, pd.dst_desc());
        dst.collapsed = p.collapse();
        forward.add(exec(natives.keep(new pooling_forward(pd)), natives.args(DNNL_ARG_SRC, src.mem, DNNL_ARG_DST,
                dst.mem)));
        tensors.put(p.output(), dst);
        backwardBuilders.add(backwardOf(dst, () -> {
            if (dst.diff == null) {
                return;
            }
            if (src.diff != null) {
                // src's gradient so far plus dy / (H·W) broadcast over the map: one jit binary add in place
                // (oneDNN's pooling backward for large global windows is a reference loop: ~30 ms per 56×56 map)
                binary.primitive_desc add = KernelChoice.choose(building, layout, tag -> {
                    memory.desc sum = desc(src.dims, tag);
                    return natives.keep(new binary.primitive_desc(natives.keep(new binary.desc(algorithm.binary_add,
                            sum, desc(dst.dims, tag), sum)), eng));
                });
                memory scaled = newMemory(dst.diffDesc);
                backward.add(scaleStep(dst.diff, scaled, dst.diffDesc, (float) (1.0 / (src.dims[2] * src.dims[3]))));
                memory sum = convert(src.diff, src.diffDesc, add.src0_desc());
                backward.add(exec(natives.keep(new binary(add)), natives.args(DNNL_ARG_SRC_0, sum, DNNL_ARG_SRC_1,
                        convert(scaled, dst.diffDesc, add.src1_desc()), DNNL_ARG_DST, sum)));
                if (sum != src.diff) {
                    backward.add(reorderStep(sum, src.diff));
                }
                return;
            }
            pooling_backward.primitive_desc bpd = KernelChoice.choose(building, layout, tag -> natives.keep(
                    new pooling_backward.primitive_desc(natives.keep(new pooling_backward.desc(
                            algorithm.pooling_avg_exclude_padding, desc(src.dims, tag), desc(dstDims, tag), ones,
                            kernel, zeros, zeros)), eng, pd)));
            memory dDst = convert(dst.diff, dst.diffDesc, bpd.diff_dst_desc());
            memory dSrc = contributionTarget(src, bpd.diff_src_desc());
            backward.add(exec(natives.keep(new pooling_backward(bpd)), natives.args(DNNL_ARG_DIFF_DST, dDst,
                    DNNL_ARG_DIFF_SRC, dSrc)));
            contributed(src, dSrc, bpd.diff_src_desc());
        }));
    }

    private void channelScale(LoweredOp.ChannelScale s) {
        Tensor given = require4d(s.input(), -1);
        Tensor givenScale = require4d(s.scale(), given.dims[1]);
        binary.primitive_desc pd = KernelChoice.choose(s.name(), layout, tag -> {
            memory.desc xDesc = desc(given.dims, tag);
            binary.desc d = natives.keep(new binary.desc(algorithm.binary_mul, xDesc, desc(givenScale.dims, tag),
                    xDesc));
            return natives.keep(new binary.primitive_desc(d, eng));
        });
        Tensor x = asFormat(given, pd.src0_desc(), forward);
        Tensor scale = asFormat(givenScale, pd.src1_desc(), forward);
        Tensor dst = allocate(x.dims, x.desc);
        forward.add(exec(natives.keep(new binary(pd)), natives.args(DNNL_ARG_SRC_0, x.mem, DNNL_ARG_SRC_1, scale.mem,
                DNNL_ARG_DST, dst.mem)));
        tensors.put(s.output(), dst);
        backwardBuilders.add(backwardOf(dst, () -> {
            if (dst.diff == null) {
                return;
            }
            memory dy = convert(dst.diff, dst.diffDesc, x.desc);
            // dx = dy · s
            memory dx = newMemory(x.desc);
            backward.add(exec(natives.keep(new binary(pd)), natives.args(DNNL_ARG_SRC_0, dy, DNNL_ARG_SRC_1,
                    scale.mem, DNNL_ARG_DST, dx)));
            // ds = Σ_hw dy · x
            binary.desc pd2 = natives.keep(new binary.desc(algorithm.binary_mul, x.desc, x.desc, x.desc));
            memory prod = newMemory(x.desc);
            backward.add(exec(natives.keep(new binary(natives.keep(new binary.primitive_desc(pd2, eng)))),
                    natives.args(DNNL_ARG_SRC_0, dy, DNNL_ARG_SRC_1, x.mem, DNNL_ARG_DST, prod)));
            accumulateOwned(given, dx, x.desc);
            // the sum over the map as average pooling (oneDNN's jit kernel; its reduction primitive is a reference
            // loop on blocked layouts, ~200 ms per B0 step) scaled by H·W
            long[] kernel = {x.dims[2], x.dims[3]};
            long[] ones = {1, 1};
            long[] zeros = {0, 0};
            pooling_forward.desc sd = natives.keep(new pooling_forward.desc(prop_kind.forward_inference,
                    algorithm.pooling_avg_exclude_padding, x.desc, any(scale.dims), ones, kernel, zeros, zeros));
            pooling_forward.primitive_desc spd = natives.keep(new pooling_forward.primitive_desc(sd, eng));
            memory ds = newMemory(spd.dst_desc());
            backward.add(exec(natives.keep(new pooling_forward(spd)), natives.args(DNNL_ARG_SRC, prod, DNNL_ARG_DST,
                    ds)));
            backward.add(scaleStep(ds, ds, spd.dst_desc(), (float) (x.dims[2] * x.dims[3])));
            accumulateOwned(givenScale, ds, spd.dst_desc());
        }));
    }

    private void add(LoweredOp.Add a) {
        Tensor x = require4d(a.a(), -1);
        Tensor y = require4d(a.b(), x.dims[1]);
        if (!Arrays.equals(x.dims, y.dims)) {
            throw new IllegalArgumentException("cannot add " + Arrays.toString(x.dims) + " and "
                    + Arrays.toString(y.dims));
        }
        memory yIn = convert(y.mem, y.desc, x.desc, forward);
        binary.desc d = natives.keep(new binary.desc(algorithm.binary_add, x.desc, x.desc, x.desc));
        binary.primitive_desc pd = natives.keep(new binary.primitive_desc(d, eng));
        Tensor dst = allocate(x.dims, x.desc);
        forward.add(exec(natives.keep(new binary(pd)), natives.args(DNNL_ARG_SRC_0, x.mem, DNNL_ARG_SRC_1, yIn,
                DNNL_ARG_DST, dst.mem)));
        tensors.put(a.output(), dst);
        backwardBuilders.add(backwardOf(dst, () -> {
            if (dst.diff == null) {
                return;
            }
            // the sum's gradient is read by no one else: x takes it over, y gets a copy (or adds it)
            accumulate(y, dst.diff, dst.diffDesc);
            accumulateOwned(x, dst.diff, dst.diffDesc);
        }));
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
        INDArray wParam = views.param(dn.name(), "W"); // DL4J: [in, out]
        INDArray wGrad = views.gradient(dn.name(), "W");
        memory.desc wUserDesc = denseDesc(wDims, wParam, fourD);
        memory.desc wGradDesc = denseDesc(wDims, wGrad, fourD);
        long[] dstDims = {n, dn.out()};
        boolean bias = dn.bias() != null;
        memory.desc biasDesc = bias ? vectorDesc(dn.out()) : null;
        inner_product_forward.desc d = bias
                ? natives.keep(new inner_product_forward.desc(prop_kind.forward_training, src.desc, any(wDims),
                        biasDesc, any(dstDims)))
                : natives.keep(new inner_product_forward.desc(prop_kind.forward_training, src.desc, any(wDims),
                        any(dstDims)));
        inner_product_forward.primitive_desc pd = natives.keep(new inner_product_forward.primitive_desc(d, eng));
        memory wUser = natives.keep(new memory(wUserDesc, eng, address(wParam)));
        memory w = newMemory(pd.weights_desc());
        refresh.add(reorderStep(wUser, w));
        Tensor pre = allocate(dstDims, pd.dst_desc());
        IntMemoryMap args = natives.args(DNNL_ARG_SRC, src.mem, DNNL_ARG_WEIGHTS, w, DNNL_ARG_DST, pre.mem);
        if (bias) {
            args.put(DNNL_ARG_BIAS, vector(views.param(dn.name(), "b")));
        }
        forward.add(exec(natives.keep(new inner_product_forward(pd)), args));
        Tensor out = dn.softmax() || dn.activation() == Eltwise.NONE ? pre : eltwise(pre, dn.activation());
        tensors.put(dn.output(), out);
        if (dn.softmax()) {
            lossAndGradient(pre, n);
        }

        backwardBuilders.add(backwardOf(out, () -> {
            if (out.diff == null) {
                return;
            }
            memory dPre = pre == out ? out.diff : eltwiseBackward(pre, out, dn.activation());
            memory.desc dPreDesc = pre == out ? out.diffDesc : pre.desc;
            inner_product_backward_weights.desc bw = bias
                    ? natives.keep(new inner_product_backward_weights.desc(src.desc, any(wDims), biasDesc,
                            any(dstDims)))
                    : natives.keep(new inner_product_backward_weights.desc(src.desc, any(wDims), any(dstDims)));
            inner_product_backward_weights.primitive_desc bwpd =
                    natives.keep(new inner_product_backward_weights.primitive_desc(bw, eng, pd));
            memory dDst = convert(dPre, dPreDesc, bwpd.diff_dst_desc());
            memory dW = newMemory(bwpd.diff_weights_desc());
            IntMemoryMap bargs = natives.args(DNNL_ARG_SRC, convert(src.mem, src.desc, bwpd.src_desc()),
                    DNNL_ARG_DIFF_DST, dDst, DNNL_ARG_DIFF_WEIGHTS, dW);
            if (bias) {
                bargs.put(DNNL_ARG_DIFF_BIAS, vector(views.gradient(dn.name(), "b")));
            }
            backward.add(exec(natives.keep(new inner_product_backward_weights(bwpd)), bargs));
            backward.add(reorderStep(dW, natives.keep(new memory(wGradDesc, eng, address(wGrad)))));
            if (!dn.input().equals(inputName)) {
                inner_product_backward_data.primitive_desc bdpd = denseBackwardData(src.dims, wDims, dstDims, pd);
                memory dSrc = contributionTarget(src, bdpd.diff_src_desc());
                backward.add(exec(natives.keep(new inner_product_backward_data(bdpd)), natives.args(DNNL_ARG_DIFF_DST,
                        convert(dPre, dPreDesc, bdpd.diff_dst_desc()), DNNL_ARG_WEIGHTS,
                        convert(w, pd.weights_desc(), bdpd.weights_desc()), DNNL_ARG_DIFF_SRC, dSrc)));
                contributed(src, dSrc, bdpd.diff_src_desc());
            }
        }));
    }

    /**
     * The backward-data pass of a dense layer, reading the weights in the forward pass's format where oneDNN has a jit
     * kernel for it: another format costs a reorder of all the weights at every step (B0's 1000×1280 head: ~30 ms per
     * step through oneDNN's generic reorder between the two padded blocked formats).
     */
    private inner_product_backward_data.primitive_desc denseBackwardData(long[] srcDims, long[] wDims, long[] dstDims,
            inner_product_forward.primitive_desc forwardPd) {
        try {
            inner_product_backward_data.primitive_desc same = natives.keep(new inner_product_backward_data
                    .primitive_desc(natives.keep(new inner_product_backward_data.desc(any(srcDims),
                    forwardPd.weights_desc(), any(dstDims))), eng, forwardPd));
            if (!KernelChoice.isReference(KernelChoice.impl(same))) {
                return same;
            }
        } catch (RuntimeException unsupported) {
            // no implementation for that weights format: let oneDNN choose one
        }
        return natives.keep(new inner_product_backward_data.primitive_desc(natives.keep(
                new inner_product_backward_data.desc(any(srcDims), any(wDims), any(dstDims))), eng, forwardPd));
    }

    /** DL4J's dense weights {@code [in, out]} (any strides) as oneDNN's {@code [out, in(, 1, 1)]}. */
    private memory.desc denseDesc(long[] wDims, INDArray view, boolean fourD) {
        long[] s = view.stride();
        long[] strides = fourD ? new long[] {s[1], s[0], 1, 1} : new long[] {s[1], s[0]};
        return natives.keep(new memory.desc(wDims, F32, strides));
    }

    /**
     * Softmax and multi-class cross-entropy on the logits, as DL4J's {@code LossMCXENT} computes them: the loss is the
     * mean over examples of {@code −Σ y·log(max(p, 1e-10))}; the gradient at the logits the sum over examples
     * ({@code p·Σy − y} per example; the updater divides by the batch size).
     */
    private void lossAndGradient(Tensor logitsTensor, long n) {
        memory.desc plain = natives.keep(new memory.desc(logitsTensor.dims, F32, memory.format_tag.nc));
        memory logitsUser = natives.keep(new memory(plain, eng, logitsNative));
        memory gradUser = natives.keep(new memory(plain, eng, gradLogitsNative));
        forward.add(reorderStep(logitsTensor.mem, logitsUser));
        int k = Math.toIntExact(classes);
        forward.add(() -> {
            strm._wait();
            logitsNative.position(0).get(logits);
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
            loss = total / n;
            gradLogitsNative.position(0).put(gradLogits);
        });
        logitsTensor.diff = newMemory(logitsTensor.desc);
        logitsTensor.diffDesc = logitsTensor.desc;
        forward.add(reorderStep(gradUser, logitsTensor.diff));
    }

    // ---------------------------------------------------------------- gradients

    /** Where a gradient contribution to {@code t} in format {@code desc} is written: {@code t}'s own gradient if
     * this is the first contribution in that format, else a temporary that {@link #contributed} adds. */
    private memory contributionTarget(Tensor t, memory.desc desc) {
        if (t.diff == null) {
            t.diff = newMemory(desc);
            t.diffDesc = natives.keep(new memory.desc(desc.data()));
            pendingFirst.put(t, t.diff);
            return t.diff;
        }
        return newMemory(desc);
    }

    /** Completes a contribution written to {@link #contributionTarget}'s memory. */
    private void contributed(Tensor t, memory written, memory.desc desc) {
        if (pendingFirst.remove(t) == written) {
            return; // it was the first: written in place
        }
        accumulate(t, written, desc);
    }

    /**
     * {@code t.diff += contribution}, where {@code contribution} is a temporary that no later step reads: the first
     * contribution becomes {@code t.diff} as it is, without a copy.
     */
    private void accumulateOwned(Tensor t, memory contribution, memory.desc desc) {
        if (t.diff == null) {
            t.diff = contribution;
            t.diffDesc = natives.keep(new memory.desc(desc.data()));
            return;
        }
        accumulate(t, contribution, desc);
    }

    /** {@code t.diff += contribution} (the first contribution becomes {@code t.diff}, copied). */
    private void accumulate(Tensor t, memory contribution, memory.desc desc) {
        if (t.diff == null) {
            t.diff = newMemory(desc);
            t.diffDesc = natives.keep(new memory.desc(desc.data()));
            backward.add(reorderStep(contribution, t.diff));
            return;
        }
        memory c = convert(contribution, desc, t.diffDesc);
        binary.desc d = natives.keep(new binary.desc(algorithm.binary_add, t.diffDesc, t.diffDesc, t.diffDesc));
        binary.primitive_desc pd = natives.keep(new binary.primitive_desc(d, eng));
        backward.add(exec(natives.keep(new binary(pd)), natives.args(DNNL_ARG_SRC_0, t.diff, DNNL_ARG_SRC_1, c,
                DNNL_ARG_DST, t.diff)));
    }

    // ---------------------------------------------------------------- helpers

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
                    + ", expected [N, " + (channels >= 0 ? channels : "C") + ", H, W]");
        }
        return t;
    }

    /** {@code t} in format {@code desc}: itself, or a copy made by a reorder step added to {@code steps}. */
    private Tensor asFormat(Tensor t, memory.desc desc, List<Runnable> steps) {
        if (t.desc.equals(desc)) {
            return t;
        }
        Tensor r = allocate(t.dims, desc);
        steps.add(reorderStep(t.mem, r.mem));
        return r;
    }

    /** {@code m} (format {@code from}) in format {@code to}: itself, or a copy made by a backward reorder step. */
    private memory convert(memory m, memory.desc from, memory.desc to) {
        return convert(m, from, to, backward);
    }

    private memory convert(memory m, memory.desc from, memory.desc to, List<Runnable> steps) {
        if (from.equals(to)) {
            return m;
        }
        memory r = newMemory(to);
        steps.add(reorderStep(m, r));
        return r;
    }

    private Tensor allocate(long[] dims, memory.desc desc) {
        return new Tensor(dims.clone(), natives.keep(new memory.desc(desc.data())), newMemory(desc));
    }

    private memory newMemory(memory.desc desc) {
        BufferPool.Buffer b = pool.take(desc.get_size());
        memory m = natives.keep(new memory(natives.keep(new memory.desc(desc.data())), eng, b.address));
        buffers.put(m, b);
        if (builderAllocations != null) {
            builderAllocations.add(m);
        }
        return m;
    }

    /**
     * Runs one op's backward builder, then hands back to the pool what no later backward step reads: the builder's
     * temporaries (everything it allocated except gradients it started for its inputs) and the gradient of the op's
     * output, which only this op's backward reads. Steps run in the order they were built, so a later builder may
     * reuse those buffers.
     */
    private void buildBackward(Backward b) {
        building = b.op() + " (backward)";
        builderAllocations = new ArrayList<>();
        b.build().run();
        java.util.Set<memory> inputGradients = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Tensor t : tensors.values()) {
            if (t.diff != null && t != b.output()) {
                inputGradients.add(t.diff);
            }
        }
        List<memory> dead = new ArrayList<>();
        for (memory m : builderAllocations) {
            if (!inputGradients.contains(m)) {
                dead.add(m);
            }
        }
        builderAllocations = null;
        if (b.output().diff != null && !inputGradients.contains(b.output().diff)) {
            dead.add(b.output().diff);
        }
        for (memory m : dead) {
            BufferPool.Buffer buf = buffers.remove(m);
            if (buf != null) {
                pool.give(buf);
            }
        }
    }

    /** A plain vector of {@code length} floats (a bias). */
    private memory.desc vectorDesc(long length) {
        return natives.keep(new memory.desc(new long[] {length}, F32, memory.format_tag.x));
    }

    private memory.desc any(long[] dims) {
        return natives.keep(new memory.desc(dims, F32, memory.format_tag.any));
    }

    private Runnable reorderStep(memory from, memory to) {
        reorder.primitive_desc pd = natives.keep(new reorder.primitive_desc(from, to));
        return exec(natives.keep(new reorder(pd)), natives.args(DNNL_ARG_FROM, from, DNNL_ARG_TO, to));
    }

    /** A step writing {@code factor · from} to {@code to} (both of format {@code desc}; may be the same memory). */
    private Runnable scaleStep(memory from, memory to, memory.desc desc, float factor) {
        eltwise_forward.desc d = natives.keep(new eltwise_forward.desc(prop_kind.forward_inference,
                algorithm.eltwise_linear, desc, factor, 0f));
        eltwise_forward.primitive_desc pd = natives.keep(new eltwise_forward.primitive_desc(d, eng));
        return exec(natives.keep(new eltwise_forward(pd)), natives.args(DNNL_ARG_SRC, from, DNNL_ARG_DST, to));
    }

    private Runnable exec(primitive p, IntMemoryMap args) {
        implementations.add(building + ": " + p.get_kind().toString().toLowerCase(java.util.Locale.ROOT) + " "
                + KernelChoice.impl(p));
        return () -> p.execute(strm, args);
    }

    private Backward backwardOf(Tensor output, Runnable build) {
        return new Backward(building, output, build);
    }

    private memory.desc desc(long[] dims, memory.format_tag tag) {
        return natives.keep(new memory.desc(dims, F32, tag));
    }

    private static Pointer address(INDArray view) {
        if (view == null) {
            throw new IllegalStateException("a parameter or gradient view is missing");
        }
        return new PagedPointer(view.data().address() + view.offset() * Float.BYTES);
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

    @Override
    public void close() {
        refresh.clear();
        forward.clear();
        backward.clear();
        natives.close();
        pool.close();
    }
}
