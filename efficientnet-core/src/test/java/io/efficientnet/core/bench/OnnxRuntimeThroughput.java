package io.efficientnet.core.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Inference throughput of an ONNX model in ONNX Runtime Java, the peer {@code bench/compare-onnxruntime.sh} times
 * this project's engine against: synthetic input {@code [batch, 3, res, res]}, {@code --threads} intra-op threads,
 * every graph optimisation, sequential execution. Prints one JSON line with the median images per second, as
 * {@code efficientnet benchmark --json} does.
 *
 * <pre>
 * java -cp … io.efficientnet.core.bench.OnnxRuntimeThroughput MODEL.onnx --batch 8 --resolution 224 --threads 2
 *     [--warmup 10] [--iterations 15]
 * </pre>
 */
public final class OnnxRuntimeThroughput {

    private OnnxRuntimeThroughput() {
    }

    public static void main(String[] args) throws OrtException {
        if (args.length < 1 || args[0].startsWith("--")) {
            System.err.println("usage: OnnxRuntimeThroughput MODEL.onnx --batch N --resolution R --threads T "
                    + "[--warmup W] [--iterations K]");
            System.exit(2);
        }
        String model = args[0];
        int batch = intOption(args, "--batch", 8);
        int res = intOption(args, "--resolution", 224);
        int threads = intOption(args, "--threads", 2);
        int warmup = intOption(args, "--warmup", 10);
        int iterations = intOption(args, "--iterations", 15);

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession session = env.createSession(model, options)) {
                String input = session.getInputNames().iterator().next();
                float[] data = new float[batch * 3 * res * res];
                SplittableRandom random = new SplittableRandom(42);
                for (int i = 0; i < data.length; i++) {
                    data[i] = (float) random.nextGaussian();
                }
                long[] shape = {batch, 3, res, res};
                try (OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(data), shape)) {
                    List<Double> ms = new ArrayList<>();
                    for (int i = 0; i < warmup + iterations; i++) {
                        long t0 = System.nanoTime();
                        try (OrtSession.Result r = session.run(Map.of(input, x))) {
                            if (r.size() == 0) {
                                throw new IllegalStateException("the model returned no output");
                            }
                        }
                        if (i >= warmup) {
                            ms.add((System.nanoTime() - t0) / 1e6);
                        }
                    }
                    double[] sorted = ms.stream().mapToDouble(Double::doubleValue).sorted().toArray();
                    double median = sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                            : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
                    System.out.printf(Locale.ROOT, "{\"engine\":\"onnxruntime %s\",\"model\":\"%s\",\"batchSize\":%d,"
                                    + "\"resolution\":%d,\"threads\":%d,\"imagesPerSecondMedian\":%.3f,"
                                    + "\"iterationMsMedian\":%.3f,\"iterationMs\":%s}%n", env.getVersion(),
                            model.replace("\\", "\\\\").replace("\"", "\\\""), batch, res, threads,
                            batch * 1000.0 / median, median, Arrays.toString(ms.stream()
                                    .map(v -> String.format(Locale.ROOT, "%.3f", v)).toArray()));
                }
            }
        }
    }

    private static int intOption(String[] args, String name, int fallback) {
        for (int i = 1; i < args.length - 1; i++) {
            if (args[i].equals(name)) {
                try {
                    return Integer.parseInt(args[i + 1]);
                } catch (NumberFormatException e) {
                    System.err.println(name + " must be a whole number, got '" + args[i + 1] + "'");
                    System.exit(2);
                }
            }
        }
        return fallback;
    }
}
