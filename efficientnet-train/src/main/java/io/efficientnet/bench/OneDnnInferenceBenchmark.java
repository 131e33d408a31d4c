package io.efficientnet.bench;

import io.efficientnet.core.onednn.OneDnnInference;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Throughput of inference through {@link OneDnnInference} (the whole network as oneDNN primitives): each timed
 * iteration is one {@code output(x)} of the spec's batch. The engine's first output is checked against
 * {@code net.output} of the same batch after timing (so DL4J's workspaces do not count in the peak memory), and a
 * mismatch fails the benchmark: a wrong lowering cannot pass for a fast one.
 */
public final class OneDnnInferenceBenchmark {

    private OneDnnInferenceBenchmark() {
    }

    /** Runs the benchmark; iteration times are per batch of {@code spec.batchSize()} images. */
    public static BenchmarkResult run(ComputationGraph net, int[] chw, String model, BenchmarkSpec spec,
            Map<String, Object> notes) {
        if (spec.mode() != BenchmarkMode.INFERENCE) {
            throw new IllegalArgumentException("the oneDNN engine is for --mode inference (training runs in DL4J)");
        }
        if (net.getConfiguration().getDataType() != DataType.FLOAT) {
            throw new IllegalArgumentException("the oneDNN engine runs float32; drop --data-type or use --engine dl4j");
        }
        INDArray x = ModelBenchmark.syntheticBatch(net, chw, spec);
        try (OneDnnInference engine = OneDnnInference.of(net)) {
            INDArray first = engine.output(x); // the first warm-up iteration, checked after timing
            ModelBenchmark.Timing timing = ModelBenchmark.time(() -> engine.output(x), Math.max(0, spec.warmup() - 1),
                    spec.iterations());
            ModelBenchmark.requireSameOutput(net.output(false, x)[0], first, "oneDNN engine");
            Map<String, Object> n = new LinkedHashMap<>(notes);
            n.put("engine", "oneDNN " + OneDnnInference.version() + " (whole network, blocked layouts)");
            putKernels(n, engine.implementations(x.shape()));
            n.put("oneDnnActivationMiB", engine.activationBytes(x.shape()) / (1024.0 * 1024.0));
            return new BenchmarkResult(model, spec, chw.clone(), net.numParams(), null, timing.ms(), timing.peak(),
                    BackendInfo.current(), null, n);
        }
    }

    /**
     * Adds the instruction set oneDNN runs ({@code oneDnnIsa}), the count of primitives per implementation
     * ({@code oneDnnPrimitives}), those that are reference loops ({@code oneDnnReferenceKernels}, empty when every
     * primitive is vectorised) and those that run oneDNN's generic, ISA-independent code ({@code oneDnnGenericKernels}:
     * reference loops, plain copies between equal layouts, batch norm on small plain maps).
     */
    static void putKernels(Map<String, Object> notes, List<String> implementations) {
        notes.put("oneDnnIsa", OneDnnInference.isa());
        notes.put("oneDnnPrimitives", implementationCounts(implementations));
        notes.put("oneDnnReferenceKernels", OneDnnInference.referenceKernels(implementations));
        notes.put("oneDnnGenericKernels", implementationCounts(OneDnnInference.genericKernels(implementations)));
    }

    /** "jit_1x1:avx2 ×64, jit_dw:avx2 ×16, …": how many primitives use each oneDNN implementation. */
    static String implementationCounts(List<String> implementations) {
        Map<String, Integer> counts = new TreeMap<>();
        for (String s : implementations) {
            counts.merge(s.substring(s.lastIndexOf(": ") + 2), 1, Integer::sum);
        }
        StringBuilder sb = new StringBuilder();
        counts.forEach((impl, c) -> sb.append(sb.length() == 0 ? "" : ", ").append(impl).append(" ×").append(c));
        return sb.toString();
    }
}
