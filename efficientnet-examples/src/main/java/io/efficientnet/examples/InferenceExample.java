package io.efficientnet.examples;

import io.efficientnet.core.engine.Engine;
import io.efficientnet.core.engine.Engines;
import io.efficientnet.core.engine.InferenceSession;
import io.efficientnet.core.weights.ImageNetLabels;
import io.efficientnet.core.weights.ImageNetPreprocessing;
import io.efficientnet.train.data.EvalTransform;
import io.efficientnet.train.data.ImageBatches;
import io.efficientnet.train.data.ImageFolder;
import io.efficientnet.train.data.LabeledImage;
import io.efficientnet.train.data.SampleTransform;
import io.efficientnet.train.data.SkippedImages;
import io.efficientnet.train.run.SavedModel;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.preprocessor.DataNormalization;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Inference: classifies images in batches and prints each image's top-5 classes and the throughput.
 *
 * <pre>
 * efficientnet-examples/run-example InferenceExample [--fast] [--model FILE.zip] [--batch N]
 *     [--engine auto|onednn|dl4j] [--limit N] [IMAGE_OR_FOLDER ...]
 * </pre>
 *
 * With {@code --model} the zip of {@link TransferLearningExample} (or {@code bin/efficientnet convert}) is used with
 * its normaliser, class names, input size and evaluation crop ({@link SavedModel}); without it, B0 at 224×224 with
 * the ImageNet classifier as in the first example (random weights when offline, which it says). Images: the arguments (files or
 * folders, searched recursively), default {@code datasets/fashion-mnist-mini/val}. {@code --fast}: the small random
 * network at 32×32 (unless {@code --model}) and 32 images. The forward passes run on the engine
 * {@link Engines#inference} chooses: oneDNN wherever it can run the network (the default, {@code --engine auto}).
 */
public final class InferenceExample {

    /** One image's top classes, most probable first. */
    public record Prediction(Path file, List<String> labels, List<Double> probabilities) {
    }

    /**
     * @param model         where the network came from
     * @param predictions   one per image that could be read
     * @param imagesPerSecond end-to-end throughput (decode, resize, normalise, forward pass)
     * @param forwardImagesPerSecond throughput of the forward passes alone
     * @param engine        what ran the forward passes
     */
    public record Result(String model, List<Prediction> predictions, double imagesPerSecond,
                         double forwardImagesPerSecond, String engine) {
    }

    private InferenceExample() {
    }

    public static void main(String[] args) throws Exception {
        run(args);
    }

    public static Result run(String... argv) throws Exception {
        Examples.Args args = Examples.Args.parse(argv);
        int batch = args.getInt("batch", 16);
        Engine engine = Examples.engine(args);
        int limit = args.getInt("limit", args.fast() ? 32 : Integer.MAX_VALUE);
        int topK = 5;

        ComputationGraph net;
        DataNormalization normalizer;
        List<String> labels;
        int res;
        double crop;
        String model;
        Path zip = args.path("model");
        if (zip != null) {
            SavedModel saved = SavedModel.load(zip);
            net = saved.network();
            normalizer = saved.normalizer();
            res = saved.inputShape()[1];
            crop = saved.evalCrop();
            labels = saved.labels() != null ? saved.labels() : ImageNetLabels.all();
            model = zip + " (" + labels.size() + " classes, " + res + "x" + res + ")";
        } else {
            Examples.BaseModel base = Examples.baseModel(args, true);
            net = base.network();
            normalizer = ImageNetPreprocessing.normalizer();
            res = base.resolution();
            crop = EvalTransform.CROP_FRACTION;
            labels = ImageNetLabels.all();
            model = "ImageNet classifier, " + base.weights();
        }
        System.out.println("Model: " + model);

        List<Path> files = images(args.positional().isEmpty()
                ? List.of(Examples.dataRoot(args).resolve("val")) : args.positional().stream().map(Path::of).toList());
        files = files.subList(0, Math.min(limit, files.size()));
        System.out.printf("Classifying %d images in batches of %d at %dx%d%n", files.size(), batch, res, res);

        // Decoding, resizing and normalising run on efficientnet-train's ImageBatches worker threads (file order, no
        // augmentation); unreadable files are reported and skipped.
        ImageFolder folder = new ImageFolder(Path.of("."), List.of("?"),
                files.stream().map(f -> new LabeledImage(f, 0)).toList());
        SkippedImages skipped = new SkippedImages(w -> System.out.println("skipped: " + w));
        List<Prediction> predictions = new ArrayList<>();
        long start = System.nanoTime();
        long forwardNanos = 0;
        String used;
        try (InferenceSession session = Engines.inference(net, engine, System.out::println);
             ImageBatches batches = new ImageBatches(folder, SampleTransform.of(new EvalTransform(res, res, crop)), res, res,
                batch, false, 0, 2, 2, 0.0, skipped)) {
            batches.setPreProcessor(normalizer);
            used = session.description();
            int next = 0;
            while (batches.hasNext()) {
                INDArray x = batches.next().getFeatures();
                long t0 = System.nanoTime();
                INDArray probs = session.output(x);
                forwardNanos += System.nanoTime() - t0;
                for (int i = 0; i < probs.size(0); i++) {
                    while (skipped.isSkipped(files.get(next))) {
                        next++;
                    }
                    predictions.add(top(files.get(next++), probs.getRow(i), labels, topK));
                }
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;

        for (Prediction p : predictions) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < p.labels().size(); i++) {
                sb.append(String.format("  %s %.3f", p.labels().get(i), p.probabilities().get(i)));
            }
            System.out.println(p.file() + ":" + sb);
        }
        double ips = predictions.size() / seconds;
        double forwardIps = predictions.size() / (forwardNanos / 1e9);
        System.out.printf("Result: %d images in %.2f s: %.1f images/s end to end, %.1f images/s in the forward pass "
                + "(%s, batch %d, %d CPUs)%n", predictions.size(), seconds, ips, forwardIps, used, batch,
                Runtime.getRuntime().availableProcessors());
        return new Result(model, predictions, ips, forwardIps, used);
    }

    /** The {@code k} most probable classes of one row of probabilities. */
    static Prediction top(Path file, INDArray row, List<String> labels, int k) {
        INDArray order = Nd4j.sortWithIndices(row.dup().reshape(-1), 0, false)[0];
        List<String> names = new ArrayList<>();
        List<Double> probs = new ArrayList<>();
        for (int i = 0; i < Math.min(k, labels.size()); i++) {
            int c = order.getInt(i);
            names.add(labels.get(c));
            probs.add(row.getDouble(c));
        }
        return new Prediction(file, names, probs);
    }

    /** Image files among {@code paths}: files as given, folders searched recursively in name order. */
    static List<Path> images(List<Path> paths) throws IOException {
        List<Path> out = new ArrayList<>();
        for (Path p : paths) {
            if (Files.isDirectory(p)) {
                try (Stream<Path> s = Files.walk(p)) {
                    s.filter(Files::isRegularFile).filter(InferenceExample::isImage).sorted().forEach(out::add);
                }
            } else {
                out.add(p);
            }
        }
        return out;
    }

    private static boolean isImage(Path f) {
        String name = f.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        int dot = name.lastIndexOf('.');
        return dot >= 0 && ImageFolder.EXTENSIONS.contains(name.substring(dot + 1));
    }
}
