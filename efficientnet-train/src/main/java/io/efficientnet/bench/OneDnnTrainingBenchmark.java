package io.efficientnet.bench;

import io.efficientnet.core.onednn.OneDnnTraining;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.LinkedHashMap;
import java.util.List;
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
        List<String> implementations;
        try (OneDnnTraining training = OneDnnTraining.of(net)) {
            timing = ModelBenchmark.time(() -> training.fit(x, y), spec.warmup(), spec.iterations());
            buffers = training.activationBytes(x.shape());
            implementations = training.implementations(x.shape());
        }
        checkLoss(net, x, y);
        Map<String, Object> n = new LinkedHashMap<>(notes);
        n.put("engine", "oneDNN (OneDnnTraining: forward and backward pass in blocked layouts)");
        OneDnnInferenceBenchmark.putKernels(n, implementations);
        n.put("oneDnnActivationMiB", buffers / (1024.0 * 1024.0));
        return new BenchmarkResult(model, spec, chw.clone(), net.numParams(), ModelBenchmark.SGD_NOTE
                .formatted(spec.learningRate()), timing.ms(), timing.peak(), BackendInfo.current(), null, n);
    }

    /** Fails unless an engine step's loss is DL4J's ({@link ModelBenchmark#checkLoss}). */
    static void checkLoss(ComputationGraph net, INDArray x, INDArray y) {
        double loss;
        try (OneDnnTraining training = OneDnnTraining.of(ModelBenchmark.withoutDropout(net))) {
            loss = training.fit(x, y);
        }
        ModelBenchmark.checkLoss(net, x, y, loss, "the oneDNN engine");
    }
}
