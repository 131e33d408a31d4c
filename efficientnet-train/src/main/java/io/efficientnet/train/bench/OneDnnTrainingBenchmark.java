package io.efficientnet.train.bench;

import io.efficientnet.core.onednn.OneDnnTraining;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Throughput of training steps through {@link OneDnnTraining}: each timed iteration is one optimizer step on the
 * spec's batch with the same plain SGD as {@link ModelBenchmark}'s train mode. After timing, the loss of an engine step
 * is checked against one DL4J training-mode pass over the batch, both on copies without dropout and drop-path (whose
 * masks differ between the two), so a wrong set-up cannot pass for a fast one.
 */
public final class OneDnnTrainingBenchmark {

    private OneDnnTrainingBenchmark() {
    }

    /** Runs the benchmark; iteration times are per step of {@code spec.batchSize()} images. */
    public static BenchmarkResult run(ComputationGraph net, int[] chw, String model, BenchmarkSpec spec,
            Map<String, Object> notes) {
        if (spec.mode() != BenchmarkMode.TRAIN) {
            throw new IllegalArgumentException("OneDnnTrainingBenchmark is for --mode train");
        }
        ModelBenchmark.TrainingBatch batch = ModelBenchmark.sgdTrainingBatch(net, chw, spec);
        INDArray x = batch.x();
        INDArray y = batch.y();
        ModelBenchmark.Timing timing;
        long buffers;
        try (OneDnnTraining training = OneDnnTraining.of(net)) {
            timing = ModelBenchmark.time(() -> training.fit(x, y), spec.warmup(), spec.iterations());
            buffers = training.activationBytes(x.shape());
        }
        checkLoss(net, x, y);
        Map<String, Object> n = new LinkedHashMap<>(notes);
        n.put("engine", "oneDNN (OneDnnTraining: forward and backward pass in blocked layouts)");
        n.put("oneDnnActivationMiB", buffers / (1024.0 * 1024.0));
        return new BenchmarkResult(model, spec, chw.clone(), net.numParams(), ModelBenchmark.SGD_NOTE
                .formatted(spec.learningRate()), timing.ms(), timing.peak(), BackendInfo.current(), null, n);
    }

    /**
     * Fails unless an engine step's loss equals a DL4J training pass's (within 1e-4 relative), both without random
     * regularisation; where they differ more, the engine passes if it is at least as close as DL4J's float32 pass to a
     * float64 DL4J pass (tiny batches, e.g. 2 images whose last maps are 1×1, make batch norm's statistics
     * ill-conditioned: there DL4J's float32 loss was 1.2% off the float64 one and the engine's 0.04%).
     */
    static void checkLoss(ComputationGraph net, INDArray x, INDArray y) {
        double expected = ModelBenchmark.trainingLoss(ModelBenchmark.withoutDropout(net), x, y);
        double loss;
        try (OneDnnTraining training = OneDnnTraining.of(ModelBenchmark.withoutDropout(net))) {
            loss = training.fit(x, y);
        }
        if (Math.abs(loss - expected) <= 1e-4 * Math.max(1, Math.abs(expected))) {
            return;
        }
        ComputationGraph exact = ModelBenchmark.withoutDropout(net).convertDataType(DataType.DOUBLE);
        double reference = ModelBenchmark.trainingLoss(exact, x.castTo(DataType.DOUBLE), y.castTo(DataType.DOUBLE));
        if (!(Math.abs(loss - reference) <= Math.abs(expected - reference))) {
            throw new IllegalStateException("the oneDNN engine's loss " + loss + " differs from DL4J's " + expected
                    + " (float64: " + reference + ")");
        }
    }
}
