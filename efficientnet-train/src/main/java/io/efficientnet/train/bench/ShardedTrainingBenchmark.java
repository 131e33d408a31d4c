package io.efficientnet.train.bench;

import io.efficientnet.core.training.ShardedTraining;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Throughput of training steps through {@link ShardedTraining}: each timed iteration is one optimizer step on the
 * spec's batch, cut into {@code shards} single-threaded shards run side by side (synchronised batch norm, summed
 * gradients), with the same plain SGD as {@link ModelBenchmark}'s train mode. After timing, the loss of a sharded step
 * is checked against the loss of one training-mode pass over the whole batch, both on copies of the network without
 * dropout and drop-path (whose random masks differ between the two), so a wrong set-up cannot pass for a fast one.
 */
public final class ShardedTrainingBenchmark {

    private ShardedTrainingBenchmark() {
    }

    /** Fails unless a sharded step's loss is the whole batch's ({@link ModelBenchmark#checkLoss}). */
    static void checkLoss(ComputationGraph net, INDArray x, INDArray y, int shards) {
        double loss;
        try (ShardedTraining sharded = ShardedTraining.of(ModelBenchmark.withoutDropout(net), shards)) {
            loss = sharded.fit(x, y);
        }
        ModelBenchmark.checkLoss(net, x, y, loss, "sharded training");
    }

    /** Runs the benchmark; iteration times are per step of {@code spec.batchSize()} images. */
    public static BenchmarkResult run(ComputationGraph net, int[] chw, String model, BenchmarkSpec spec, int shards,
            Map<String, Object> notes) {
        if (spec.mode() != BenchmarkMode.TRAIN) {
            throw new IllegalArgumentException("sharded training is for --mode train");
        }
        ModelBenchmark.TrainingBatch batch = ModelBenchmark.sgdTrainingBatch(net, chw, spec);
        INDArray x = batch.x();
        INDArray y = batch.y();
        ModelBenchmark.Timing timing;
        try (ShardedTraining sharded = ShardedTraining.of(net, shards)) {
            timing = ModelBenchmark.time(() -> sharded.fit(x, y), spec.warmup(), spec.iterations());
            // after timing: the check's whole-batch pass keeps a workspace on this thread that would inflate the
            // peak memory of the timed run
            checkLoss(net, x, y, shards);
            Map<String, Object> n = new LinkedHashMap<>(notes);
            n.put("shardedTraining", shards + " shards (at most " + (spec.batchSize() + shards - 1) / shards
                    + " images each, synchronised batch norm), " + ShardedInferenceBenchmark.nativeThreadsPerShard());
            return new BenchmarkResult(model, spec, chw.clone(), net.numParams(), ModelBenchmark.SGD_NOTE
                    .formatted(spec.learningRate()), timing.ms(), timing.peak(), BackendInfo.current(), null, n);
        }
    }
}
