package io.efficientnet.train.bench;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.parallelism.ParallelInference;
import org.deeplearning4j.parallelism.inference.InferenceMode;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Throughput of single-image requests served by DL4J's {@link ParallelInference}: each timed iteration sends
 * {@code batchSize} one-image requests at once from as many caller threads (as a server would receive them); the
 * model replicas ({@code workers}) take them in batches of up to {@code batchSize} ({@link InferenceMode#BATCHED}).
 * The first request's output is checked against {@code net.output} of the same image, so a wrong set-up cannot pass
 * for a fast one.
 */
public final class ParallelInferenceBenchmark {

    private ParallelInferenceBenchmark() {
    }

    /** Runs the benchmark; the result's iteration times are per {@code batchSize} requests. */
    public static BenchmarkResult run(ComputationGraph net, int[] chw, String model, BenchmarkSpec spec, int workers,
            java.util.Map<String, Object> notes) {
        if (spec.mode() != BenchmarkMode.INFERENCE) {
            throw new IllegalArgumentException("parallel inference is for --mode inference");
        }
        if (workers < 1) {
            throw new IllegalArgumentException("parallel-inference workers must be >= 1, got " + workers);
        }
        int requests = spec.batchSize();
        Nd4j.getRandom().setSeed(spec.seed());
        DataType type = net.getConfiguration().getDataType();
        List<INDArray> images = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            images.add(Nd4j.randn(type, 1, chw[0], chw[1], chw[2]));
        }
        INDArray expected = net.output(false, images.get(0))[0];
        ParallelInference pi = new ParallelInference.Builder(net).inferenceMode(InferenceMode.BATCHED)
                .workers(workers).batchLimit(requests).queueLimit(Math.max(64, 4 * requests)).build();
        ExecutorService callers = Executors.newFixedThreadPool(requests, r -> {
            Thread t = new Thread(r, "efficientnet-request");
            t.setDaemon(true);
            return t;
        });
        ModelBenchmark.Timing timing;
        try {
            ModelBenchmark.requireSameOutput(expected, round(pi, images, callers), "ParallelInference");
            // the checked round above is the first warm-up round
            timing = ModelBenchmark.time(() -> round(pi, images, callers), Math.max(0, spec.warmup() - 1),
                    spec.iterations());
        } finally {
            callers.shutdownNow();
            pi.shutdown();
        }
        java.util.Map<String, Object> n = new java.util.LinkedHashMap<>(notes);
        n.put("parallelInference", "DL4J ParallelInference, BATCHED, " + workers + " replicas, " + requests
                + " concurrent one-image requests per iteration");
        return new BenchmarkResult(model, spec, chw.clone(), net.numParams(), null, timing.ms(), timing.peak(),
                BackendInfo.current(), null, n);
    }

    /** Sends every image as its own request, concurrently; returns the first image's output. */
    private static INDArray round(ParallelInference pi, List<INDArray> images, ExecutorService callers) {
        List<Future<INDArray>> out = new ArrayList<>();
        for (INDArray image : images) {
            out.add(callers.submit(() -> pi.output(image)));
        }
        try {
            INDArray first = null;
            for (Future<INDArray> f : out) {
                INDArray r = f.get();
                if (first == null) {
                    first = r;
                }
            }
            return first;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("a ParallelInference request failed: " + e.getCause(), e.getCause());
        }
    }
}
