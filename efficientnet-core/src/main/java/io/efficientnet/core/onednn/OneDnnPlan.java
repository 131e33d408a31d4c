package io.efficientnet.core.onednn;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.stream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.pointers.PagedPointer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link LoweredNetwork} compiled for one input shape {@code [N, C, H, W]}: oneDNN primitives in execution order,
 * every intermediate tensor in the memory format its producer chose (blocked layouts stay blocked from one op to
 * the next; reorders only where a consumer wants another format), weights reordered once, activation buffers
 * reused once their last reader has run. {@link #run} is not thread-safe.
 */
final class OneDnnPlan implements PlanCache.Plan {

    /** A network output: copied into a new plain array after every run. */
    private record Output(long[] shape, memory mem) {
    }

    private final PlanBuilder builder;
    private final List<Runnable> steps = new ArrayList<>();
    /** Tensor → index of the last op reading it. */
    private final Map<String, Integer> lastUse = new HashMap<>();
    private final List<Output> outputs = new ArrayList<>();

    OneDnnPlan(LoweredNetwork net, long[] inputShape, ActivationLayout layout, engine eng, stream strm) {
        if (inputShape.length != 4 || inputShape[1] != net.inputChannels()) {
            throw new IllegalArgumentException("input shape " + Arrays.toString(inputShape) + ": expected [N, "
                    + net.inputChannels() + ", H, W]");
        }
        this.builder = new PlanBuilder(net.input(), inputShape, layout, eng, strm, KernelChoice::impl);
        try {
            liveness(net);
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
                addOutput(builder.tensor(name));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Bytes of activation buffers (weights and oneDNN's scratchpads not included). */
    long activationBytes() {
        return builder.allocatedBytes();
    }

    /** Implementation oneDNN chose for each primitive, e.g. {@code block2a_dwconv: jit:avx2}. */
    List<String> implementations() {
        return builder.implementations();
    }

    /**
     * Runs the network on {@code input} (float32, c order, not a view, of this plan's shape) and returns new
     * float32 arrays outside any workspace.
     */
    INDArray[] run(INDArray input) {
        builder.bindInput(input.data().address());
        INDArray[] result = new INDArray[outputs.size()];
        for (int i = 0; i < result.length; i++) {
            result[i] = Nd4j.createUninitializedDetached(DataType.FLOAT, outputs.get(i).shape());
            outputs.get(i).mem().set_data_handle(new PagedPointer(result[i].data().address()));
        }
        for (Runnable s : steps) {
            s.run();
        }
        builder.strm._wait();
        Reference.reachabilityFence(input); // read through its address only (see OneDnnTrainingPlan#run)
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

    /** The tensors {@code op} reads; refuses the ops only training runs. */
    private static List<String> reads(LoweredOp op) {
        if (op instanceof LoweredOp.BatchNorm || op instanceof LoweredOp.Dropout) {
            throw new IllegalArgumentException(op.getClass().getSimpleName() + " '" + op.name()
                    + "' is lowered for training; the inference engine takes GraphLowering.lower");
        }
        return op.inputs();
    }

    private void build(LoweredOp op, int index) {
        if (op instanceof LoweredOp.Conv c) {
            ConvolutionPrimitives.inference(this, c, index);
        } else if (op instanceof LoweredOp.GlobalPool p) {
            PoolingPrimitives.inference(this, p);
        } else if (op instanceof LoweredOp.ChannelScale s) {
            BinaryPrimitives.inference(this, s, index);
        } else if (op instanceof LoweredOp.Add a) {
            BinaryPrimitives.inference(this, a, index);
        } else if (op instanceof LoweredOp.Activation a) {
            EltwisePrimitives.inference(this, a, index);
        } else if (op instanceof LoweredOp.Dense d) {
            InnerProductPrimitives.inference(this, d);
        }
        for (String t : reads(op)) {
            if (lastReadAt(t, index)) {
                builder.release(builder.tensor(t));
            }
        }
    }

    private void addOutput(Tensor t) {
        long[] shape = t.collapsed ? new long[] {t.dims[0], t.dims[1]} : t.dims.clone();
        memory.desc plain = builder.desc(t.dims, t.dims.length == 4 ? memory.format_tag.nchw : memory.format_tag.nc);
        memory out = builder.natives.keep(new memory(plain, builder.eng, (Pointer) null));
        reorder("output", t.mem, out);
        outputs.add(new Output(shape, out));
    }

    // --- for the op kinds' inference builders

    PlanBuilder builder() {
        return builder;
    }

    /** Adds a step executing {@code p}. */
    void step(String label, primitive p, IntMemoryMap args) {
        steps.add(builder.step(label, p, args));
    }

    /** Adds a step copying {@code from} into {@code to} in {@code to}'s format. */
    void reorder(String label, memory from, memory to) {
        steps.add(builder.reorder(label, from, to));
    }

    /** Whether op {@code index} is the last to read tensor {@code name}. */
    boolean lastReadAt(String name, int index) {
        return lastUse.get(name) == index;
    }

    /** {@code t} itself when it has format {@code desc}, else a new tensor it is reordered into before op {@code op}. */
    Tensor inFormat(Tensor t, memory.desc desc, String op) {
        return builder.inFormat(t, desc, op + " (input reorder)", steps);
    }

    /** Writes into {@code src}'s buffer when {@code src} is read for the last time here, else into a new one. */
    Tensor inPlaceOrNew(String name, Tensor src, int index) {
        if (lastReadAt(name, index) && src.buffer != null) {
            return builder.handOver(src);
        }
        return builder.allocate(src.dims, src.desc);
    }

    /** A constant (weights or bias) in oneDNN's preferred format {@code target} (or as given when null). */
    memory constant(float[] values, long[] dims, memory.format_tag tag, memory.desc target) {
        memory.desc plainDesc = builder.desc(dims, tag);
        if (target == null || plainDesc.equals(target)) {
            return builder.natives.keep(new memory(plainDesc, builder.eng,
                    builder.natives.keep(new FloatPointer(values))));
        }
        memory converted = builder.natives.keep(new memory(builder.copy(target), builder.eng));
        // the plain copy is only needed for the reorder: freed right after, so the weights are held once natively
        try (FloatPointer data = new FloatPointer(values);
             memory plain = new memory(plainDesc, builder.eng, data);
             reorder r = new reorder(plain, converted)) {
            r.execute(builder.strm, plain, converted);
            builder.strm._wait();
        }
        return converted;
    }

    @Override
    public void close() {
        steps.clear();
        builder.close();
    }
}
