package io.efficientnet.core.onednn;

import io.efficientnet.core.kernels.DepthwiseKernels;
import io.efficientnet.core.kernels.SwishKernels;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.convolution_backward_data;
import org.bytedeco.dnnl.convolution_backward_weights;
import org.bytedeco.dnnl.convolution_forward;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.post_ops;
import org.bytedeco.dnnl.primitive_attr;
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
import static org.bytedeco.dnnl.global.dnnl.algorithm;
import static org.bytedeco.dnnl.global.dnnl.prop_kind;

/**
 * {@link LoweredOp.Conv} as oneDNN convolutions: inference with folded constants and fused post-ops (activation,
 * residual sum), and training's forward (then the activation) with its backward (weight, bias and input gradients).
 */
final class ConvolutionPrimitives {

    private ConvolutionPrimitives() {
    }

    /** The shape of one convolution on one input: padding oneDNN needs, weight and output dimensions. */
    private record Geometry(long[] wDims, long[] dstDims, long[] strides, long[] padL, long[] padR) {

        static Geometry of(LoweredOp.Conv c, long[] srcDims) {
            long[] padL = new long[2];
            long[] padR = new long[2];
            long oh = outSize(srcDims[2], c.kernelH(), c.strideH(), c.same(), c.padH(), padL, padR, 0);
            long ow = outSize(srcDims[3], c.kernelW(), c.strideW(), c.same(), c.padW(), padL, padR, 1);
            long g = c.groups();
            long[] wDims = g == 1 ? new long[] {c.outChannels(), c.inChannels(), c.kernelH(), c.kernelW()}
                    : new long[] {g, c.outChannels() / g, c.inChannels() / g, c.kernelH(), c.kernelW()};
            return new Geometry(wDims, new long[] {srcDims[0], c.outChannels(), oh, ow},
                    new long[] {c.strideH(), c.strideW()}, padL, padR);
        }
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

    // --- inference

    static void inference(OneDnnPlan plan, LoweredOp.Conv c, int index) {
        PlanBuilder b = plan.builder();
        Tensor src = b.require4d(c.input(), c.inChannels());
        Geometry geo = Geometry.of(c, src.dims);
        long[] dstDims = geo.dstDims();
        if (dstDims[2] < 1 || dstDims[3] < 1) {
            throw new IllegalArgumentException("input " + src.dims[2] + "×" + src.dims[3] + " is too small for a "
                    + c.kernelH() + "×" + c.kernelW() + " kernel");
        }
        memory.desc wAny = b.any(geo.wDims());
        post_ops po = b.natives.keep(new post_ops());
        EltwisePrimitives.appendPostOp(po, c.activation());
        if (c.addend() != null) {
            po.append_sum(); // scale 1: dst = conv(...) + dst
        }
        primitive_attr attr = b.natives.keep(new primitive_attr());
        attr.set_post_ops(po);
        boolean plainInput = b.isInput(src);
        convolution_forward.primitive_desc pd = b.choose(c.name(), tag -> {
            memory.desc srcDesc = plainInput ? src.desc : b.desc(src.dims, tag);
            memory.desc dstDesc = b.desc(dstDims, tag);
            convolution_forward.desc d = c.bias() == null
                    ? b.natives.keep(new convolution_forward.desc(prop_kind.forward_inference,
                            algorithm.convolution_direct, srcDesc, wAny, dstDesc, geo.strides(), geo.padL(),
                            geo.padR()))
                    : b.natives.keep(new convolution_forward.desc(prop_kind.forward_inference,
                            algorithm.convolution_direct, srcDesc, wAny, b.vector(c.outChannels()), dstDesc,
                            geo.strides(), geo.padL(), geo.padR()));
            return b.natives.keep(new convolution_forward.primitive_desc(d, attr, b.eng));
        });

        Tensor in = plan.inFormat(src, pd.src_desc(), c.name());
        memory weights = plan.constant(c.weights(), geo.wDims(), c.groups() == 1 ? memory.format_tag.oihw
                : memory.format_tag.goihw, pd.weights_desc());
        Tensor dst;
        if (c.addend() != null) {
            Tensor addend = b.require4d(c.addend(), c.outChannels());
            if (!Arrays.equals(addend.dims, dstDims)) {
                throw new IllegalArgumentException("residual add of " + Arrays.toString(addend.dims) + " to "
                        + Arrays.toString(dstDims));
            }
            if (plan.lastReadAt(c.addend(), index) && addend.buffer != null && addend.desc.equals(pd.dst_desc())) {
                dst = b.handOver(addend); // sum in place
            } else {
                dst = b.allocate(dstDims, pd.dst_desc());
                plan.reorder(c.name() + " (residual copy)", addend.mem, dst.mem);
            }
        } else {
            dst = b.allocate(dstDims, pd.dst_desc());
        }
        IntMemoryMap args = b.natives.args(DNNL_ARG_SRC, in.mem, DNNL_ARG_WEIGHTS, weights, DNNL_ARG_DST, dst.mem);
        if (c.bias() != null) {
            args.put(DNNL_ARG_BIAS, plan.constant(c.bias(), new long[] {c.outChannels()}, memory.format_tag.x,
                    null));
        }
        plan.step(c.name(), b.natives.keep(new convolution_forward(pd)), args);
        b.put(c.output(), dst);
        if (in != src) {
            b.release(in);
        }
    }

    // --- training

    static void training(OneDnnTrainingPlan plan, LoweredOp.Conv c) {
        PlanBuilder b = plan.builder();
        Tensor src = b.require4d(c.input(), c.inChannels());
        Geometry geo = Geometry.of(c, src.dims);
        boolean bias = c.bias() != null;
        memory.desc biasDesc = bias ? b.vector(c.outChannels()) : null;
        memory.desc wAny = b.any(geo.wDims());
        boolean plainInput = b.isInput(src);
        convolution_forward.primitive_desc pd = b.choose(c.name(), tag -> {
            memory.desc srcDesc = plainInput ? src.desc : b.desc(src.dims, tag);
            convolution_forward.desc d = bias
                    ? b.natives.keep(new convolution_forward.desc(plan.forwardKind(),
                            algorithm.convolution_direct, srcDesc, wAny, biasDesc, b.desc(geo.dstDims(), tag),
                            geo.strides(), geo.padL(), geo.padR()))
                    : b.natives.keep(new convolution_forward.desc(plan.forwardKind(),
                            algorithm.convolution_direct, srcDesc, wAny, b.desc(geo.dstDims(), tag), geo.strides(),
                            geo.padL(), geo.padR()));
            return b.natives.keep(new convolution_forward.primitive_desc(d, b.eng));
        });
        Tensor in = plan.asFormat(src, pd.src_desc());
        // the layer's weights, refreshed from the network's parameters at every step
        INDArray wParam = plan.views().param(c.name(), "W");
        memory wUser = plan.viewMemory(weightsDesc(b, c, geo.wDims(), wParam), wParam);
        memory w = b.newMemory(pd.weights_desc());
        plan.refresh(plan.reorder(wUser, w));
        memory bMem = bias ? plan.vector(plan.views().param(c.name(), "b")) : null;
        Tensor pre = b.allocate(geo.dstDims(), pd.dst_desc());
        convolution_forward fwd = b.natives.keep(new convolution_forward(pd));
        IntMemoryMap args = b.natives.args(DNNL_ARG_SRC, in.mem, DNNL_ARG_WEIGHTS, w, DNNL_ARG_DST, pre.mem);
        if (bias) {
            args.put(DNNL_ARG_BIAS, bMem);
        }
        plan.forward(plan.exec(fwd, args));
        EltwisePrimitives.Activated act = c.activation() == Eltwise.NONE ? null
                : EltwisePrimitives.forward(plan, pre, c.activation());
        Tensor out = act == null ? pre : act.output();
        b.put(c.output(), out);
        plan.backwardOf(out, () -> backward(plan, c, geo, pd, src, in, w, pre, act, biasDesc));
    }

    private static void backward(OneDnnTrainingPlan plan, LoweredOp.Conv c, Geometry geo,
                                 convolution_forward.primitive_desc pd, Tensor src, Tensor in, memory w, Tensor pre,
                                 EltwisePrimitives.Activated act, memory.desc biasDesc) {
        Tensor out = act == null ? pre : act.output();
        if (out.diff == null) {
            return; // nothing downstream reached this convolution
        }
        PlanBuilder b = plan.builder();
        memory dPre = act == null ? out.diff : EltwisePrimitives.backward(plan, pre, act);
        memory.desc dPreDesc = act == null ? out.diffDesc : pre.desc;
        INDArray wGrad = plan.views().gradient(c.name(), "W");
        memory gUser = plan.viewMemory(weightsDesc(b, c, geo.wDims(), wGrad), wGrad);
        if (javaDepthwiseGradient(c) && biasDesc == null) {
            depthwiseWeightGradient(plan, c, in, dPre, dPreDesc, geo, gUser, src.dims);
        } else {
            weightGradient(plan, c, pd, in, dPre, dPreDesc, geo, gUser, src.dims, biasDesc);
        }
        if (plan.needsGradient(c.input())) {
            convolution_backward_data.desc bd = b.natives.keep(new convolution_backward_data.desc(
                    algorithm.convolution_direct, b.any(src.dims), b.any(geo.wDims()), b.any(geo.dstDims()),
                    geo.strides(), geo.padL(), geo.padR()));
            convolution_backward_data.primitive_desc dpd =
                    b.natives.keep(new convolution_backward_data.primitive_desc(bd, b.eng, pd));
            memory wForData = plan.convert(w, pd.weights_desc(), dpd.weights_desc());
            memory dDst = plan.convert(dPre, dPreDesc, dpd.diff_dst_desc());
            memory dSrc = plan.contributionTarget(src, dpd.diff_src_desc());
            plan.backward(plan.exec(b.natives.keep(new convolution_backward_data(dpd)), b.natives.args(
                    DNNL_ARG_DIFF_DST, dDst, DNNL_ARG_WEIGHTS, wForData, DNNL_ARG_DIFF_SRC, dSrc)));
            plan.contributed(src, dSrc, dpd.diff_src_desc());
        }
    }

    /**
     * Whether a convolution's weight gradient runs in this project's Vector API kernel: depthwise (multiplier 1),
     * square kernels of 5×5 and larger, any stride and padding. oneDNN 2.5's depthwise weight-gradient kernel handles
     * 3×3 only; larger kernels fall back to im2col + GEMM on plain layouts (stride 1: ~85 of ~500 ms of a B0 batch-8
     * step; B0's two stride-2 5×5 layers: ~30 ms).
     */
    private static boolean javaDepthwiseGradient(LoweredOp.Conv c) {
        int k = c.kernelH();
        return c.groups() > 1 && c.groups() == c.inChannels() && c.outChannels() == c.inChannels()
                && c.strideH() == c.strideW() && k == c.kernelW() && k >= 5 && SwishKernels.available();
    }

    private static void depthwiseWeightGradient(OneDnnTrainingPlan plan, LoweredOp.Conv c, Tensor in, memory dPre,
                                                memory.desc dPreDesc, Geometry geo, memory gUser, long[] srcDims) {
        PlanBuilder b = plan.builder();
        long[] dstDims = geo.dstDims();
        memory.desc plainSrc = b.desc(srcDims, memory.format_tag.nchw);
        memory.desc plainDst = b.desc(dstDims, memory.format_tag.nchw);
        memory x = plan.convert(in.mem, in.desc, plainSrc);
        memory dz = plan.convert(dPre, dPreDesc, plainDst);
        long ch = c.inChannels();
        int k = c.kernelH();
        // [k, k, C]: DL4J's [kH, kW, nIn, 1] as goihw
        memory.desc taps = b.strided(geo.wDims(), new long[] {1, 1, 1, k * ch, ch});
        // written straight into the network's gradient array where that is dense (it normally is)
        boolean direct = taps.equals(gUser.get_desc());
        memory dw = direct ? gUser : b.newMemory(taps);
        int n = Math.toIntExact(srcDims[0]);
        int h = Math.toIntExact(srcDims[2]);
        int w = Math.toIntExact(srcDims[3]);
        int oh = Math.toIntExact(dstDims[2]);
        int ow = Math.toIntExact(dstDims[3]);
        int stride = c.strideH();
        int top = Math.toIntExact(geo.padL()[0]);
        int left = Math.toIntExact(geo.padL()[1]);
        plan.backward(() -> {
            b.strm._wait();
            DepthwiseKernels.weightGradient(PlanBuilder.bytes(x), PlanBuilder.bytes(dz), PlanBuilder.bytes(dw), n,
                    Math.toIntExact(ch), h, w, k, stride, top, left, oh, ow);
        });
        if (!direct) {
            plan.backward(plan.reorder(dw, gUser));
        }
    }

    private static void weightGradient(OneDnnTrainingPlan plan, LoweredOp.Conv c,
                                       convolution_forward.primitive_desc pd, Tensor in, memory dPre,
                                       memory.desc dPreDesc, Geometry geo, memory gUser, long[] srcDims,
                                       memory.desc biasDesc) {
        PlanBuilder b = plan.builder();
        boolean bias = biasDesc != null;
        convolution_backward_weights.desc bwd = bias
                ? b.natives.keep(new convolution_backward_weights.desc(algorithm.convolution_direct, b.any(srcDims),
                        b.any(geo.wDims()), biasDesc, b.any(geo.dstDims()), geo.strides(), geo.padL(), geo.padR()))
                : b.natives.keep(new convolution_backward_weights.desc(algorithm.convolution_direct, b.any(srcDims),
                        b.any(geo.wDims()), b.any(geo.dstDims()), geo.strides(), geo.padL(), geo.padR()));
        convolution_backward_weights.primitive_desc bpd =
                b.natives.keep(new convolution_backward_weights.primitive_desc(bwd, b.eng, pd));
        memory srcForW = plan.convert(in.mem, in.desc, bpd.src_desc());
        memory dDst = plan.convert(dPre, dPreDesc, bpd.diff_dst_desc());
        memory dW = b.newMemory(bpd.diff_weights_desc());
        IntMemoryMap bargs = b.natives.args(DNNL_ARG_SRC, srcForW, DNNL_ARG_DIFF_DST, dDst, DNNL_ARG_DIFF_WEIGHTS,
                dW);
        if (bias) {
            bargs.put(DNNL_ARG_DIFF_BIAS, plan.vector(plan.views().gradient(c.name(), "b")));
        }
        plan.backward(plan.exec(b.natives.keep(new convolution_backward_weights(bpd)), bargs));
        plan.backward(plan.reorder(dW, gUser));
    }

    /** The DL4J layout of a convolution's weights (a parameter or gradient view) as a oneDNN descriptor. */
    private static memory.desc weightsDesc(PlanBuilder b, LoweredOp.Conv c, long[] wDims, INDArray view) {
        long[] s = view.stride();
        if (c.groups() == 1) {
            return b.strided(wDims, s); // [out, in, kH, kW]
        }
        // DL4J depthwise [kH, kW, in, multiplier] as goihw [in][multiplier][1][kH][kW]
        return b.strided(wDims, new long[] {s[2], s[3], 1, s[0], s[1]});
    }
}
