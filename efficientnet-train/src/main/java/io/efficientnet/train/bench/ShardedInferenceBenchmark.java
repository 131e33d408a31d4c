package io.efficientnet.train.bench;

import io.efficientnet.core.inference.NativeThreads;
import io.efficientnet.core.inference.ShardedInference;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Throughput of batch inference through {@link ShardedInference}: each timed iteration is one
 * {@code output(x)} of the spec's batch, cut into {@code shards} single-threaded shards run side by side. The
 * sharded output of the first iteration is checked against {@code net.output} of the same batch, so a wrong set-up
 * cannot pass for a fast one.
 */
public final class ShardedInferenceBenchmark {

    private ShardedInferenceBenchmark() {
    }

    /** How many native threads each shard thread runs with, for the report (sharded inference and training alike). */
    static String nativeThreadsPerShard() {
        return "native threads per shard: " + NativeThreads.unavailableReason().map(why -> "process-wide (" + why + ")")
                .orElse("1");
    }

    /** Runs the benchmark; iteration times are per batch of {@code spec.batchSize()} images. */
    public static BenchmarkResult run(ComputationGraph net, int[] chw, String model, BenchmarkSpec spec, int shards,
            Map<String, Object> notes) {
        if (spec.mode() != BenchmarkMode.INFERENCE) {
            throw new IllegalArgumentException("sharded inference is for --mode inference");
        }
        INDArray x = ModelBenchmark.syntheticBatch(net, chw, spec);
        INDArray expected = net.output(false, x)[0];
        ModelBenchmark.Timing timing;
        try (ShardedInference sharded = ShardedInference.of(net, shards)) {
            ModelBenchmark.requireSameOutput(expected, sharded.output(x), "sharded");
            // the checked call above is the first warm-up iteration
            timing = ModelBenchmark.time(() -> sharded.output(x), Math.max(0, spec.warmup() - 1), spec.iterations());
            Map<String, Object> n = new LinkedHashMap<>(notes);
            n.put("shardedInference", shards + " shards (at most " + (spec.batchSize() + shards - 1) / shards
                    + " images each), " + nativeThreadsPerShard());
            return new BenchmarkResult(model, spec, chw.clone(), net.numParams(), null, timing.ms(), timing.peak(),
                    BackendInfo.current(), null, n);
        }
    }
}
