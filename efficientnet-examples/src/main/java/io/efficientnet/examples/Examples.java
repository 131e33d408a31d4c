package io.efficientnet.examples;

import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.model.Pooling;
import io.efficientnet.core.model.Variant;
import io.efficientnet.core.engine.Engine;
import io.efficientnet.core.engine.Engines;
import io.efficientnet.core.engine.TrainingSession;
import io.efficientnet.core.weights.ImageNetPreprocessing;
import io.efficientnet.core.weights.KerasWeightFile;
import io.efficientnet.core.weights.KerasWeightImporter;
import io.efficientnet.train.data.DataSplits;
import io.efficientnet.train.data.EvalTransform;
import io.efficientnet.train.data.ImageBatches;
import io.efficientnet.train.data.ImageFolder;
import io.efficientnet.train.data.LabeledImage;
import io.efficientnet.train.data.SampleTransform;
import io.efficientnet.train.data.SkippedImages;
import io.efficientnet.train.data.augment.RandomResizedCrop;
import io.efficientnet.train.data.augment.TrainTransform;
import org.nd4j.linalg.dataset.api.preprocessor.DataNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.zoo.PretrainedType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the examples share: command-line parsing, the base network and the image batches. Everything here is a thin
 * use of the public API of efficientnet-core and efficientnet-train.
 * <p>
 * Two sizes: the full mode uses EfficientNet-B0 at 224×224 with ImageNet weights (or a Keras {@code .h5} given with
 * {@code --keras}, or random weights when neither can be had, which the output says); {@code --fast} uses a small
 * random network (width 0.5, depth 0.25) at 32×32 on a few images, so that a test can run the example in seconds.
 */
final class Examples {

    /** Resolution of the fast mode. */
    static final int FAST_RESOLUTION = 32;
    /** Resolution of the full mode (B0's own). */
    static final int FULL_RESOLUTION = 224;

    private Examples() {
    }

    /** Parsed arguments: {@code --fast}, {@code --name value} pairs and the rest. */
    record Args(boolean fast, Map<String, String> options, List<String> positional) {

        static Args parse(String... args) {
            boolean fast = false;
            Map<String, String> options = new HashMap<>();
            List<String> positional = new ArrayList<>();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("--fast")) {
                    fast = true;
                } else if (a.startsWith("--")) {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException(a + " needs a value");
                    }
                    options.put(a.substring(2), args[++i]);
                } else {
                    positional.add(a);
                }
            }
            return new Args(fast, options, positional);
        }

        String get(String name, String fallback) {
            return options.getOrDefault(name, fallback);
        }

        int getInt(String name, int fallback) {
            return options.containsKey(name) ? Integer.parseInt(options.get(name)) : fallback;
        }

        double getDouble(String name, double fallback) {
            return options.containsKey(name) ? Double.parseDouble(options.get(name)) : fallback;
        }

        Path path(String name) {
            return options.containsKey(name) ? Path.of(options.get(name)) : null;
        }

        int resolution() {
            return getInt("resolution", fast ? FAST_RESOLUTION : FULL_RESOLUTION);
        }
    }

    /** A network and a sentence saying where its weights came from. */
    record BaseModel(ComputationGraph network, String weights, int resolution) {
    }

    /** The architecture: B0 at {@code resolution}, or in fast mode a small B0 (width 0.5, depth 0.25). */
    static EfficientNet.Builder architecture(boolean fast, int resolution) {
        EfficientNet.Builder b = EfficientNet.builder().variant(Variant.B0).resolution(resolution).seed(42);
        return fast ? b.widthMultiplier(0.5).depthMultiplier(0.25) : b;
    }

    /**
     * The base network, with the ImageNet classifier ({@code includeTop}) or headless with average pooling.
     * Full mode: the Keras file given with {@code --keras}, else ImageNet weights via {@code initPretrained} (which
     * honours {@code -Defficientnet.weights.file}), else, when they cannot be had (offline), random weights.
     * Fast mode: a small random network.
     */
    static BaseModel baseModel(Args args, boolean includeTop) throws IOException {
        int res = args.resolution();
        Path keras = args.path("keras");
        if (keras != null) {
            boolean fileTop;
            try (KerasWeightFile file = KerasWeightFile.open(keras)) {
                fileTop = file.hasLayer("predictions");
            }
            boolean top = includeTop && fileTop;
            ComputationGraph net = EfficientNet.builder().variant(Variant.B0).resolution(res)
                    .includeTop(top).pooling(Pooling.AVG).build().init();
            KerasWeightImporter.Result r = KerasWeightImporter.load(net, keras, "b0");
            return new BaseModel(net, "Keras weights from " + keras + " (" + r.layersLoaded() + " layers, "
                    + r.valuesLoaded() + " values" + (top ? "" : ", no classifier") + ")", res);
        }
        EfficientNet model = architecture(args.fast(), res).includeTop(includeTop).pooling(Pooling.AVG).build();
        if (args.fast()) {
            return new BaseModel(model.init(), "random weights (fast mode: small network, width 0.5, depth 0.25, "
                    + res + "x" + res + ")", res);
        }
        try {
            ComputationGraph net = model.initPretrained(PretrainedType.IMAGENET);
            return new BaseModel(net, "ImageNet weights (" + model.pretrainedUrl(PretrainedType.IMAGENET) + ")",
                    res);
        } catch (IOException e) {
            return new BaseModel(model.init(), "offline: random weights - ImageNet weights could not be had ("
                    + firstLine(e.getMessage()) + "); pass --keras FILE.h5 or -Defficientnet.weights.file=FILE.h5",
                    res);
        }
    }

    /** The dataset folder: {@code --data}, else the bundled Fashion-MNIST subset (from the repo or module folder). */
    static Path dataRoot(Args args) {
        Path given = args.path("data");
        if (given != null) {
            return given;
        }
        return inRepository(Path.of("datasets", "fashion-mnist-mini"));
    }

    /**
     * A path of the repository, relative to the working folder: the repository root (as for the launchers) or the
     * examples module's folder (as for Maven's tests).
     */
    static Path inRepository(Path relative) {
        return Files.exists(relative) ? relative : Path.of("..").resolve(relative);
    }

    /** The first {@code perClass} images of each class. */
    static ImageFolder limit(ImageFolder folder, int perClass) {
        int[] taken = new int[folder.classes().size()];
        List<LabeledImage> kept = new ArrayList<>();
        for (LabeledImage li : folder.images()) {
            if (taken[li.label()]++ < perClass) {
                kept.add(li);
            }
        }
        return new ImageFolder(folder.root(), folder.classes(), kept);
    }

    /**
     * Shuffled, augmented training batches: a random-resized crop keeping at least 35% of the image (the images are
     * small) and a horizontal flip, normalised by {@code normalizer}.
     */
    static ImageBatches trainBatches(ImageFolder folder, int res, int batchSize, long seed,
            DataNormalization normalizer) {
        TrainTransform t = new TrainTransform(res, res, new RandomResizedCrop(0.35, 1.0, 3.0 / 4, 4.0 / 3), 0.5, null);
        ImageBatches b = new ImageBatches(folder, t::apply, res, res, batchSize, true, seed, 2, 2, 0.0,
                new SkippedImages(System.err::println));
        b.setPreProcessor(normalizer);
        return b;
    }

    /**
     * Trains {@code net} for {@code epochs} epochs on {@code engine} (oneDNN where it can train the network, else
     * DL4J's {@code fit}) and returns the mean loss of each; {@code verbose} prints a line per epoch.
     */
    static List<Double> train(ComputationGraph net, ImageFolder folder, int res, int batchSize, long seed,
            int epochs, Engine engine, DataNormalization normalizer, boolean verbose) {
        List<Double> losses = new ArrayList<>();
        try (ImageBatches train = trainBatches(folder, res, batchSize, seed, normalizer);
             TrainingSession session = Engines.training(net, engine, System.out::println)) {
            for (int epoch = 0; epoch < epochs; epoch++) {
                long t0 = System.nanoTime();
                train.startEpoch(epoch, 0);
                double sum = 0;
                int n = 0;
                while (train.hasNext()) {
                    sum += session.fit(train.next());
                    n++;
                }
                losses.add(sum / n);
                if (verbose) {
                    System.out.printf("epoch %d/%d: training loss %.4f (%d batches, %.1f s, %s)%n", epoch + 1,
                            epochs, sum / n, n, (System.nanoTime() - t0) / 1e9, session.description());
                }
            }
        }
        return losses;
    }

    /** {@code --engine auto|onednn|dl4j} (default auto). */
    static Engine engine(Args args) {
        return Engine.parse(args.get("engine", "auto"), "--engine");
    }

    /** Evaluation batches in file order (resize, centre crop), normalised by {@code normalizer}. */
    static ImageBatches evalBatches(ImageFolder folder, int res, int batchSize, DataNormalization normalizer) {
        ImageBatches b = new ImageBatches(folder, SampleTransform.of(EvalTransform.of(res)), res, res, batchSize,
                false, 0, 2, 2, 0.0, new SkippedImages(System.err::println));
        b.setPreProcessor(normalizer);
        return b;
    }

    static String firstLine(String s) {
        if (s == null) {
            return "no message";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    static String percent(double x) {
        return String.format("%.1f%%", 100 * x);
    }
}
