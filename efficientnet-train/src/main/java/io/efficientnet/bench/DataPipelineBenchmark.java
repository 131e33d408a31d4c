package io.efficientnet.bench;

import io.efficientnet.core.weights.ImageNetPreprocessing;
import io.efficientnet.train.data.ImageBatches;
import io.efficientnet.train.data.ImageFolder;
import io.efficientnet.train.data.SkippedImages;
import io.efficientnet.train.data.augment.TrainTransform;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Throughput of the training data pipeline alone: decode, random-resized crop, flip, normalise and batch, on
 * {@code workers} threads with prefetch, with no network consuming the batches. Each timed iteration is one pass of
 * {@code batches} batches (epochs restart as needed); the report is the median over iterations.
 */
public final class DataPipelineBenchmark {

    private DataPipelineBenchmark() {
    }

    /** Runs {@code warmup} untimed and {@code iterations} timed passes; returns a JSON-ready map. */
    public static Map<String, Object> run(ImageFolder folder, int resolution, int batchSize, int workers,
            int batches, int warmup, int iterations) {
        List<Double> rates = new ArrayList<>();
        int[] epoch = {0};
        try (ImageBatches b = new ImageBatches(folder, TrainTransform.standard(resolution)::apply, resolution,
                resolution, batchSize, true, 42, workers, 2 * workers, 0.1, new SkippedImages(System.err::println))) {
            b.setPreProcessor(ImageNetPreprocessing.normalizer());
            for (int it = 0; it < warmup + iterations; it++) {
                long start = System.nanoTime();
                long images = 0;
                for (int i = 0; i < batches; i++) {
                    if (!b.hasNext()) {
                        b.startEpoch(++epoch[0], 0);
                    }
                    images += b.next().numExamples();
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                if (it >= warmup) {
                    rates.add(images / seconds);
                }
            }
        }
        List<Double> sorted = new ArrayList<>(rates);
        sorted.sort(null);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("mode", "data");
        out.put("data", folder.root().toString());
        out.put("images", folder.size());
        out.put("resolution", resolution);
        out.put("batchSize", batchSize);
        out.put("workers", workers);
        out.put("batchesPerIteration", batches);
        out.put("imagesPerSecondMedian", sorted.get(sorted.size() / 2));
        out.put("imagesPerSecondMin", sorted.get(0));
        out.put("imagesPerSecondMax", sorted.get(sorted.size() - 1));
        out.put("method", "decode (ImageIO) + random-resized crop + flip + ImageNet normalisation + batching on "
                + workers + " threads, no network; median of " + iterations + " passes of " + batches + " batches");
        return out;
    }

    /** A one-line text report of {@link #run}'s map. */
    public static String toText(Map<String, Object> r) {
        return String.format(Locale.ROOT, "data pipeline on %s (%s images) at %dx%d, batch %d, %d workers: "
                        + "%.1f images/s median (min %.1f, max %.1f)%n", r.get("data"), r.get("images"),
                (Integer) r.get("resolution"), (Integer) r.get("resolution"), (Integer) r.get("batchSize"),
                (Integer) r.get("workers"), (Double) r.get("imagesPerSecondMedian"),
                (Double) r.get("imagesPerSecondMin"), (Double) r.get("imagesPerSecondMax"));
    }
}
