package io.efficientnet.core.onednn;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.binary;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.stream;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.memory.pointers.PagedPointer;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.lang.ref.Reference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_0;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_1;
import static org.bytedeco.dnnl.global.dnnl.algorithm;
import static org.bytedeco.dnnl.global.dnnl.prop_kind;

/**
 * One training step of a {@link LoweredNetwork} (lowered for training) for one input shape, as oneDNN primitives:
 * the forward pass with batch statistics, softmax cross-entropy, and the backward pass, every activation and
 * activation gradient in the blocked format oneDNN chooses. Weights are read from the network's parameter views and
 * gradients written into its gradient views (the DL4J layouts) by reorders at every step, so the network's own
 * updater takes the step afterwards. Java-side work (dropout masks, the loss, batch norm's running-statistic updates)
 * runs between primitives. Frozen ops run as at inference; ops whose output needs no gradient ({@link GradientFlow})
 * get no backward steps. Not thread-safe.
 */
final class OneDnnTrainingPlan implements PlanCache.Plan {

    /** The network's parameter and gradient arrays of one parameter, by {@code <layer>_<param>}. */
    interface Views {
        /** The parameter array (a view of the network's parameters). */
        INDArray param(String layer, String key);

        /** The gradient array the step must fill (a view of the network's flattened gradients). */
        INDArray gradient(String layer, String key);

        /** Called after the forward pass of a batch norm with the batch mean and biased variance per channel. */
        void batchStatistics(String layer, double[] mean, double[] variance);

        /** A batch norm's running mean and variance per channel, {@code {mean, variance}}. */
        double[][] runningStatistics(String layer);
    }

    /** Builds the backward steps of op {@code op} whose forward output is {@code output}. */
    private record Backward(String op, Tensor output, Runnable build) {
    }

    private final PlanBuilder builder;
    private final Views views;
    private final SoftmaxCrossEntropy loss;
    private final GradientFlow flow;
    private final Set<String> frozen;
    /** Whether the op being built gets no backward steps (its forward primitives are built for inference). */
    private boolean inferenceOnly;
    /** Steps of one training step, in order: weight refresh, forward, loss, backward, gradient write-back. */
    private final List<Runnable> refresh = new ArrayList<>();
    private final List<Runnable> forward = new ArrayList<>();
    private final List<Runnable> backward = new ArrayList<>();
    /** Per-op backward builders, run in reverse order once the forward pass is built. */
    private final List<Backward> backwardBuilders = new ArrayList<>();
    /** Gradients started by a first contribution that {@link #contributed} has not yet seen. */
    private final Map<Tensor, memory> pendingFirst = new HashMap<>();
    /** The op whose steps are being built (labels steps in {@link #implementations}). */
    private String building = "input";
    private SplittableRandom random = new SplittableRandom(0);
    /** Whether every step starts with all pool buffers NaN ({@link BufferPool#POISON_PROPERTY}). */
    private final boolean poison = Boolean.getBoolean(BufferPool.POISON_PROPERTY);

    OneDnnTrainingPlan(LoweredNetwork net, long[] inputShape, Views views, ActivationLayout layout, engine eng,
                       stream strm) {
        this.views = views;
        this.flow = GradientFlow.of(net);
        this.frozen = net.frozen();
        this.builder = new PlanBuilder(net.input(), inputShape, layout, eng, strm,
                p -> p.get_kind().toString().toLowerCase(Locale.ROOT) + " " + KernelChoice.impl(p));
        LoweredOp.Dense head = (LoweredOp.Dense) net.ops().get(net.ops().size() - 1);
        this.loss = new SoftmaxCrossEntropy(builder.natives, inputShape[0], head.out());
        try {
            for (LoweredOp op : net.ops()) {
                try {
                    building = op.name();
                    inferenceOnly = !flow.needs(op.output());
                    int builders = backwardBuilders.size();
                    build(op);
                    if (inferenceOnly) {
                        backwardBuilders.subList(builders, backwardBuilders.size()).clear();
                    }
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
        return builder.implementations();
    }

    /** Bytes of activation and gradient buffers. */
    long activationBytes() {
        return builder.allocatedBytes();
    }

    /**
     * One forward and backward pass: fills the network's gradient views with sums over the batch's examples (batch
     * norm's running statistics: their updates) and returns the mean loss. {@code x} and {@code y} float32, c order,
     * not views.
     */
    double run(INDArray x, INDArray y, long seed) {
        random = new SplittableRandom(seed);
        builder.bindInput(x.data().address());
        loss.labels(y);
        if (poison) {
            builder.poisonBuffers();
        }
        for (Runnable r : refresh) {
            r.run();
        }
        for (Runnable r : forward) {
            r.run();
        }
        for (Runnable r : backward) {
            r.run();
        }
        builder.strm._wait();
        // the primitives read x through its address only: without the fence the JIT may let x be collected, and
        // ND4J free and reuse its memory, while the step still reads it
        Reference.reachabilityFence(x);
        return loss.loss();
    }

    private void build(LoweredOp op) {
        if (op instanceof LoweredOp.Conv c) {
            ConvolutionPrimitives.training(this, c);
        } else if (op instanceof LoweredOp.BatchNorm b) {
            BatchNormPrimitives.training(this, b);
        } else if (op instanceof LoweredOp.Activation a) {
            EltwisePrimitives.training(this, a);
        } else if (op instanceof LoweredOp.Dropout d) {
            DropoutSteps.training(this, d);
        } else if (op instanceof LoweredOp.GlobalPool p) {
            PoolingPrimitives.training(this, p);
        } else if (op instanceof LoweredOp.ChannelScale s) {
            BinaryPrimitives.training(this, s);
        } else if (op instanceof LoweredOp.Add a) {
            BinaryPrimitives.training(this, a);
        } else if (op instanceof LoweredOp.Dense d) {
            InnerProductPrimitives.training(this, d);
        } else {
            throw new IllegalArgumentException("not lowered for training");
        }
    }

    /**
     * Runs one op's backward builder, then hands back to the pool what no later backward step reads: the builder's
     * temporaries (everything it allocated except gradients it started for its inputs) and the gradient of the op's
     * output, which only this op's backward reads. Steps run in the order they were built, so a later builder may
     * reuse those buffers.
     */
    private void buildBackward(Backward b) {
        building = b.op() + " (backward)";
        builder.trackAllocations();
        b.build().run();
        Set<memory> inputGradients = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Tensor t : builder.tensors()) {
            if (t.diff != null && t != b.output()) {
                inputGradients.add(t.diff);
            }
        }
        List<memory> dead = new ArrayList<>();
        for (memory m : builder.trackedAllocations()) {
            if (!inputGradients.contains(m)) {
                dead.add(m);
            }
        }
        if (b.output().diff != null && !inputGradients.contains(b.output().diff)) {
            dead.add(b.output().diff);
        }
        for (memory m : dead) {
            BufferPool.Buffer freed = builder.free(m);
            if (poison && freed != null) { // its last reader has run: NaN until its next use writes it
                backward.add(() -> {
                    builder.strm._wait();
                    BufferPool.poison(freed);
                });
            }
        }
    }

    // --- for the op kinds' training builders

    PlanBuilder builder() {
        return builder;
    }

    Views views() {
        return views;
    }

    SoftmaxCrossEntropy loss() {
        return loss;
    }

    /** Whether the backward pass needs the gradient of tensor {@code name} (never the network input's). */
    boolean needsGradient(String name) {
        return flow.needs(name);
    }

    /** Whether op {@code name} comes from a frozen layer (it runs as at inference, its parameters do not train). */
    boolean isFrozen(String name) {
        return frozen.contains(name);
    }

    /** The forward propagation kind of the op being built: for inference where it gets no backward steps. */
    prop_kind forwardKind() {
        return inferenceOnly ? prop_kind.forward_inference : prop_kind.forward_training;
    }

    /** The random generator of the running step (dropout masks). */
    SplittableRandom random() {
        return random;
    }

    /** The label of the steps being built: the op's name, with " (backward)" in its backward builder. */
    String building() {
        return building;
    }

    /** Adds a step run before the forward pass (weights refreshed from the network). */
    void refresh(Runnable step) {
        refresh.add(step);
    }

    void forward(Runnable step) {
        forward.add(step);
    }

    void backward(Runnable step) {
        backward.add(step);
    }

    /** Registers the builder of the backward steps of the op being built, whose forward output is {@code output}. */
    void backwardOf(Tensor output, Runnable build) {
        backwardBuilders.add(new Backward(building, output, build));
    }

    /** A step executing {@code p}, labelled with the op being built. */
    Runnable exec(primitive p, IntMemoryMap args) {
        return builder.step(building, p, args);
    }

    /** A step copying {@code from} into {@code to}, labelled with the op being built. */
    Runnable reorder(memory from, memory to) {
        return builder.reorder(building, from, to);
    }

    /** {@code t} in format {@code desc}: itself, or a copy made by a forward reorder step. */
    Tensor asFormat(Tensor t, memory.desc desc) {
        return builder.inFormat(t, desc, building, forward);
    }

    /** {@code m} (format {@code from}) in format {@code to}: itself, or a copy made by a backward reorder step. */
    memory convert(memory m, memory.desc from, memory.desc to) {
        return builder.convert(m, from, to, building, backward);
    }

    /** {@link #convert} by a forward reorder step. */
    memory convertInForward(memory m, memory.desc from, memory.desc to) {
        return builder.convert(m, from, to, building, forward);
    }

    /** A network array (a parameter or gradient view) as a oneDNN memory of format {@code desc} over its data. */
    memory viewMemory(memory.desc desc, INDArray view) {
        return builder.natives.keep(new memory(desc, builder.eng, address(view)));
    }

    /** A per-channel vector view ({@code [1, C]} or {@code [C]}) as a oneDNN memory over the same data. */
    memory vector(INDArray view) {
        long len = view.length();
        long stride = view.rank() == 1 ? view.stride(0) : view.stride(view.size(0) == 1 ? 1 : 0);
        return viewMemory(builder.strided(new long[] {len}, new long[] {stride}), view);
    }

    private static Pointer address(INDArray view) {
        if (view == null) {
            throw new IllegalStateException("a parameter or gradient view is missing");
        }
        return new PagedPointer(view.data().address() + view.offset() * Float.BYTES);
    }

    // --- gradients

    /**
     * Where a gradient contribution to {@code t} in format {@code desc} is written: {@code t}'s own gradient if
     * this is the first contribution, else a temporary that {@link #contributed} adds.
     */
    memory contributionTarget(Tensor t, memory.desc desc) {
        if (t.diff == null) {
            t.diff = builder.newMemory(desc);
            t.diffDesc = builder.copy(desc);
            pendingFirst.put(t, t.diff);
            return t.diff;
        }
        return builder.newMemory(desc);
    }

    /** Completes a contribution written to {@link #contributionTarget}'s memory. */
    void contributed(Tensor t, memory written, memory.desc desc) {
        if (pendingFirst.remove(t) == written) {
            return; // it was the first: written in place
        }
        accumulate(t, written, desc);
    }

    /**
     * {@code t.diff += contribution}, where {@code contribution} is a temporary that no later step reads: the first
     * contribution becomes {@code t.diff} as it is, without a copy.
     */
    void accumulateOwned(Tensor t, memory contribution, memory.desc desc) {
        if (t.diff == null) {
            t.diff = contribution;
            t.diffDesc = builder.copy(desc);
            return;
        }
        accumulate(t, contribution, desc);
    }

    /** {@code t.diff += contribution} (the first contribution becomes {@code t.diff}, copied). */
    void accumulate(Tensor t, memory contribution, memory.desc desc) {
        if (t.diff == null) {
            t.diff = builder.newMemory(desc);
            t.diffDesc = builder.copy(desc);
            backward.add(reorder(contribution, t.diff));
            return;
        }
        memory c = convert(contribution, desc, t.diffDesc);
        binary.desc d = builder.natives.keep(new binary.desc(algorithm.binary_add, t.diffDesc, t.diffDesc,
                t.diffDesc));
        binary.primitive_desc pd = builder.natives.keep(new binary.primitive_desc(d, builder.eng));
        backward.add(exec(builder.natives.keep(new binary(pd)), builder.natives.args(DNNL_ARG_SRC_0, t.diff,
                DNNL_ARG_SRC_1, c, DNNL_ARG_DST, t.diff)));
    }

    @Override
    public void close() {
        refresh.clear();
        forward.clear();
        backward.clear();
        builder.close();
    }
}
