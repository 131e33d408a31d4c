package io.efficientnet.core.onednn;

import org.bytedeco.dnnl.binary;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.pooling_forward;

import java.util.Arrays;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_0;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_1;
import static org.bytedeco.dnnl.global.dnnl.algorithm;
import static org.bytedeco.dnnl.global.dnnl.prop_kind;

/**
 * The two-input ops as oneDNN binary primitives: {@link LoweredOp.ChannelScale} (a per-example channel broadcast
 * multiply) and {@link LoweredOp.Add}, for inference and, with their backward, for training.
 */
final class BinaryPrimitives {

    private BinaryPrimitives() {
    }

    // --- inference

    static void inference(OneDnnPlan plan, LoweredOp.ChannelScale s, int index) {
        inference(plan, s.output(), algorithm.binary_mul, s.input(), s.scale(), index, s.name());
    }

    static void inference(OneDnnPlan plan, LoweredOp.Add a, int index) {
        inference(plan, a.output(), algorithm.binary_add, a.a(), a.b(), index, a.name());
    }

    private static void inference(OneDnnPlan plan, String output, algorithm alg, String a, String bName, int index,
                                  String label) {
        PlanBuilder b = plan.builder();
        Tensor src0 = b.require4d(a, -1);
        Tensor src1 = b.require4d(bName, src0.dims[1]);
        boolean broadcast = alg == algorithm.binary_mul;
        if (broadcast ? src1.dims[0] != src0.dims[0] || src1.dims[2] != 1 || src1.dims[3] != 1
                : !Arrays.equals(src0.dims, src1.dims)) {
            throw new IllegalArgumentException("cannot " + (broadcast ? "scale " : "add ") + Arrays.toString(src0.dims)
                    + " by " + Arrays.toString(src1.dims));
        }
        binary.primitive_desc pd = b.choose(label, tag -> {
            memory.desc d0 = b.desc(src0.dims, tag);
            binary.desc d = b.natives.keep(new binary.desc(alg, d0, b.desc(src1.dims, tag), d0));
            return b.natives.keep(new binary.primitive_desc(d, b.eng));
        });
        Tensor in0 = plan.inFormat(src0, pd.src0_desc(), label);
        Tensor in1 = plan.inFormat(src1, pd.src1_desc(), label);
        Tensor dst = in0 != src0 ? in0 : plan.inPlaceOrNew(a, src0, index);
        plan.step(label, b.natives.keep(new binary(pd)), b.natives.args(DNNL_ARG_SRC_0, in0.mem, DNNL_ARG_SRC_1,
                in1.mem, DNNL_ARG_DST, dst.mem));
        if (in1 != src1) {
            b.release(in1);
        }
        b.put(output, dst);
    }

    // --- training

    static void training(OneDnnTrainingPlan plan, LoweredOp.ChannelScale s) {
        PlanBuilder b = plan.builder();
        Tensor given = b.require4d(s.input(), -1);
        Tensor givenScale = b.require4d(s.scale(), given.dims[1]);
        binary.primitive_desc pd = b.choose(s.name(), tag -> {
            memory.desc xDesc = b.desc(given.dims, tag);
            binary.desc d = b.natives.keep(new binary.desc(algorithm.binary_mul, xDesc, b.desc(givenScale.dims, tag),
                    xDesc));
            return b.natives.keep(new binary.primitive_desc(d, b.eng));
        });
        Tensor x = plan.asFormat(given, pd.src0_desc());
        Tensor scale = plan.asFormat(givenScale, pd.src1_desc());
        Tensor dst = b.allocate(x.dims, x.desc);
        plan.forward(plan.exec(b.natives.keep(new binary(pd)), b.natives.args(DNNL_ARG_SRC_0, x.mem, DNNL_ARG_SRC_1,
                scale.mem, DNNL_ARG_DST, dst.mem)));
        b.put(s.output(), dst);
        plan.backwardOf(dst, () -> channelScaleBackward(plan, pd, s.input(), given, s.scale(), givenScale, x, scale,
                dst));
    }

    private static void channelScaleBackward(OneDnnTrainingPlan plan, binary.primitive_desc pd, String inputName,
                                             Tensor given, String scaleName, Tensor givenScale, Tensor x,
                                             Tensor scale, Tensor dst) {
        if (dst.diff == null) {
            return;
        }
        PlanBuilder b = plan.builder();
        memory dy = plan.convert(dst.diff, dst.diffDesc, x.desc);
        if (plan.needsGradient(inputName)) { // dx = dy · s
            memory dx = b.newMemory(x.desc);
            plan.backward(plan.exec(b.natives.keep(new binary(pd)), b.natives.args(DNNL_ARG_SRC_0, dy,
                    DNNL_ARG_SRC_1, scale.mem, DNNL_ARG_DST, dx)));
            plan.accumulateOwned(given, dx, x.desc);
        }
        if (!plan.needsGradient(scaleName)) {
            return;
        }
        // ds = Σ_hw dy · x
        binary.desc pd2 = b.natives.keep(new binary.desc(algorithm.binary_mul, x.desc, x.desc, x.desc));
        memory prod = b.newMemory(x.desc);
        plan.backward(plan.exec(b.natives.keep(new binary(b.natives.keep(new binary.primitive_desc(pd2, b.eng)))),
                b.natives.args(DNNL_ARG_SRC_0, dy, DNNL_ARG_SRC_1, x.mem, DNNL_ARG_DST, prod)));
        // the sum over the map as average pooling (oneDNN's jit kernel; its reduction primitive is a reference
        // loop on blocked layouts, ~200 ms per B0 step) scaled by H·W
        long[] kernel = {x.dims[2], x.dims[3]};
        long[] ones = {1, 1};
        long[] zeros = {0, 0};
        pooling_forward.desc sd = b.natives.keep(new pooling_forward.desc(prop_kind.forward_inference,
                algorithm.pooling_avg_exclude_padding, x.desc, b.any(scale.dims), ones, kernel, zeros, zeros));
        pooling_forward.primitive_desc spd = b.natives.keep(new pooling_forward.primitive_desc(sd, b.eng));
        memory ds = b.newMemory(spd.dst_desc());
        plan.backward(plan.exec(b.natives.keep(new pooling_forward(spd)), b.natives.args(DNNL_ARG_SRC, prod,
                DNNL_ARG_DST, ds)));
        plan.backward(EltwisePrimitives.scale(plan, ds, ds, spd.dst_desc(), (float) (x.dims[2] * x.dims[3])));
        plan.accumulateOwned(givenScale, ds, spd.dst_desc());
    }

    static void training(OneDnnTrainingPlan plan, LoweredOp.Add a) {
        PlanBuilder b = plan.builder();
        Tensor x = b.require4d(a.a(), -1);
        Tensor y = b.require4d(a.b(), x.dims[1]);
        if (!Arrays.equals(x.dims, y.dims)) {
            throw new IllegalArgumentException("cannot add " + Arrays.toString(x.dims) + " and "
                    + Arrays.toString(y.dims));
        }
        memory yIn = plan.convertInForward(y.mem, y.desc, x.desc);
        binary.desc d = b.natives.keep(new binary.desc(algorithm.binary_add, x.desc, x.desc, x.desc));
        binary.primitive_desc pd = b.natives.keep(new binary.primitive_desc(d, b.eng));
        Tensor dst = b.allocate(x.dims, x.desc);
        plan.forward(plan.exec(b.natives.keep(new binary(pd)), b.natives.args(DNNL_ARG_SRC_0, x.mem, DNNL_ARG_SRC_1,
                yIn, DNNL_ARG_DST, dst.mem)));
        b.put(a.output(), dst);
        plan.backwardOf(dst, () -> {
            if (dst.diff == null) {
                return;
            }
            // the sum's gradient is read by no one else: x takes it over, y gets a copy (or adds it)
            if (plan.needsGradient(a.b())) {
                plan.accumulate(y, dst.diff, dst.diffDesc);
            }
            if (plan.needsGradient(a.a())) {
                plan.accumulateOwned(x, dst.diff, dst.diffDesc);
            }
        });
    }
}
