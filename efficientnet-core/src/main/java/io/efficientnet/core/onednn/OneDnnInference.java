package io.efficientnet.core.onednn;

import org.bytedeco.dnnl.engine;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Inference of a DL4J EfficientNet (or a graph of the same layer kinds) as one chain of oneDNN primitives, outside
 * DL4J's layers: batch norms folded into the convolutions, swish/sigmoid and residual adds fused into them as
 * post-ops, and every activation kept in the blocked memory format oneDNN's kernels pick, so data is reordered only
 * at the input and the outputs instead of around every layer.
 *
 * <pre>{@code
 * try (OneDnnInference engine = OneDnnInference.of(net)) {
 *     INDArray probabilities = engine.output(images);   // [N, 3, H, W] float → same as net.output(false, images)[0]
 * }
 * }</pre>
 *
 * <p>The parameters are copied when the engine is created; later training of {@code net} does not reach it. A plan
 * (primitives, reordered weights, activation buffers) is built on the first call for each input shape and kept for
 * the {@value #PLANS} most recent shapes. Calls are serialised; oneDNN uses {@code OMP_NUM_THREADS} threads.
 * Available where the JavaCPP oneDNN preset has a native build ({@link #unavailableReason()}).
 */
public final class OneDnnInference implements AutoCloseable {

    /** Input shapes whose plans are kept. */
    public static final int PLANS = 4;

    private final LoweredNetwork lowered;
    private final PlanCache<OneDnnPlan> plans;
    private boolean closed;

    private OneDnnInference(LoweredNetwork lowered, ActivationLayout layout) {
        this.lowered = lowered;
        this.plans = new PlanCache<>(PLANS, (shape, eng, strm) -> new OneDnnPlan(lowered, shape, layout, eng, strm));
    }

    /**
     * Lowers {@code net} and prepares the engine.
     *
     * @throws IllegalArgumentException for a layer or vertex the engine cannot run (named in the message)
     * @throws IllegalStateException    where oneDNN's native library cannot be loaded
     */
    public static OneDnnInference of(ComputationGraph net) {
        return of(net, ActivationLayout.BLOCKED);
    }

    /** {@link #of(ComputationGraph)} with activations kept in {@code layout} where oneDNN has jit kernels for it. */
    static OneDnnInference of(ComputationGraph net, ActivationLayout layout) {
        LoweredNetwork lowered = GraphLowering.lower(net);
        unavailableReason().ifPresent(why -> {
            throw new IllegalStateException("the oneDNN engine is not available here: " + why);
        });
        return new OneDnnInference(lowered, layout);
    }

    /** Why oneDNN's native library cannot be used here, or empty when it can. */
    public static Optional<String> unavailableReason() {
        return Library.REASON;
    }

    /** oneDNN's version, e.g. {@code "2.5.2"}. */
    public static String version() {
        unavailableReason().ifPresent(why -> {
            throw new IllegalStateException("the oneDNN engine is not available here: " + why);
        });
        org.bytedeco.dnnl.dnnl_version_t v = org.bytedeco.dnnl.global.dnnl.dnnl_version();
        return v.major() + "." + v.minor() + "." + v.patch();
    }

    /**
     * The instruction set oneDNN runs on this CPU, e.g. {@code avx512_core} or {@code avx2} (lowered by the
     * environment variable {@code ONEDNN_MAX_CPU_ISA}).
     */
    public static String isa() {
        version();
        return ActivationLayout.isaName();
    }

    /**
     * The entries of an {@link #implementations} (or {@link OneDnnTraining#implementations}) list whose kernel is one
     * of oneDNN's reference loops (none, unless oneDNN lacks a jit kernel on this CPU for every format tried).
     */
    public static List<String> referenceKernels(List<String> implementations) {
        return implementations.stream().filter(s -> KernelChoice.isReference(s.substring(s.lastIndexOf(' ') + 1)))
                .toList();
    }

    /**
     * The entries of an implementations list whose kernel is oneDNN's generic C++ code rather than code generated for
     * this CPU's instruction set (implementation names ending in {@code :any}: reference loops, {@code simple:any}
     * reorders, {@code ncsp_bnorm:any} batch norms on plain layouts).
     */
    public static List<String> genericKernels(List<String> implementations) {
        return implementations.stream().filter(s -> s.endsWith(":any")).toList();
    }

    /** The network as the engine runs it. */
    public LoweredNetwork lowered() {
        return lowered;
    }

    /** The output of a single-output network for {@code input} {@code [N, C, H, W]}. */
    public INDArray output(INDArray input) {
        if (lowered.outputs().size() != 1) {
            throw new IllegalStateException("the network has " + lowered.outputs().size() + " outputs "
                    + lowered.outputs() + "; use outputs()");
        }
        return outputs(input)[0];
    }

    /**
     * All outputs, in the network's output order, as new float32 arrays outside any workspace.
     *
     * @throws IllegalArgumentException if {@code input} is not {@code [N, C, H, W]} with the network's channels or
     *                                  is too small for a layer (the message names the layer)
     */
    public synchronized INDArray[] outputs(INDArray input) {
        if (closed) {
            throw new IllegalStateException("the oneDNN engine is closed");
        }
        if (input == null || input.rank() != 4 || input.size(1) != lowered.inputChannels()) {
            throw new IllegalArgumentException("input must be [N, " + lowered.inputChannels() + ", H, W], got "
                    + (input == null ? "null" : Arrays.toString(input.shape())));
        }
        INDArray x = PlanCache.denseFloat(input);
        return plans.get(x.shape()).run(x);
    }

    /** oneDNN's implementation of each primitive for {@code inputShape} (e.g. {@code "block2a_dwconv: jit:avx2"}). */
    public synchronized List<String> implementations(long... inputShape) {
        return plans.get(inputShape).implementations();
    }

    /** Bytes of the activation buffers of the plan for {@code inputShape}. */
    public synchronized long activationBytes(long... inputShape) {
        return plans.get(inputShape).activationBytes();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        plans.close();
    }

    /** Loads oneDNN once. */
    private static final class Library {
        static final Optional<String> REASON = load();

        private static Optional<String> load() {
            try {
                try (engine e = new engine(engine.kind.cpu, 0)) {
                    return Optional.empty();
                }
            } catch (Throwable t) {
                return Optional.of(t.getClass().getSimpleName() + ": " + t.getMessage());
            }
        }
    }
}
