package io.efficientnet.examples;

import io.efficientnet.core.weights.ImageNetPreprocessing;
import io.efficientnet.core.weights.ModelZip;
import io.efficientnet.train.data.DataSplits;
import io.efficientnet.train.data.ImageBatches;
import io.efficientnet.train.run.EvalResult;
import io.efficientnet.train.run.Evaluator;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.nio.file.Path;
import java.util.List;

/**
 * Transfer learning: an ImageNet-trained EfficientNet-B0 becomes a classifier for the classes of an image folder.
 * Everything up to {@code top_activation} is frozen; {@code predictions} is replaced by a new softmax layer for the
 * folder's classes, which alone is trained. The result is saved as a model zip (network, ImageNet normaliser,
 * class names, input shape) that {@code bin/efficientnet predict --model} and {@link FineTuningExample} read.
 *
 * <pre>
 * efficientnet-examples/run-example TransferLearningExample [--fast] [--data DIR] [--keras B0.h5]
 *     [--epochs N] [--batch N] [--lr X] [--engine auto|onednn|dl4j] [--output FILE.zip]
 * </pre>
 *
 * Full mode: B0 at 224×224, ImageNet weights (random when offline, which it says), 3 epochs over
 * {@code datasets/fashion-mnist-mini}. {@code --fast}: a small random network at 32×32, 30 training and 10
 * validation images per class, 2 epochs. Steps run on the engine
 * {@link io.efficientnet.core.engine.Engines#training} chooses ({@code --engine auto}).
 */
public final class TransferLearningExample {

    /** Layer up to which (inclusive) the network is frozen. */
    static final String FREEZE_UP_TO = "top_activation";

    /**
     * @param weights        where the base weights came from
     * @param classes        the dataset's classes
     * @param accuracyBefore validation top-1 with the new, untrained head
     * @param accuracyAfter  validation top-1 after training the head
     * @param losses         mean training loss per epoch
     * @param model          the saved zip
     */
    public record Result(String weights, List<String> classes, double accuracyBefore, double accuracyAfter,
                         List<Double> losses, Path model) {
    }

    private TransferLearningExample() {
    }

    public static void main(String[] args) throws Exception {
        run(args);
    }

    public static Result run(String... argv) throws Exception {
        Examples.Args args = Examples.Args.parse(argv);
        int epochs = args.getInt("epochs", args.fast() ? 2 : 3);
        int batch = args.getInt("batch", args.fast() ? 16 : 32);
        double lr = args.getDouble("lr", args.fast() ? 1e-2 : 1e-3);
        Path output = Path.of(args.get("output", "runs/examples/transfer-learning.zip"));

        Path data = Examples.dataRoot(args);
        DataSplits splits = Examples.open(data, args, 30, 10);
        System.out.printf("Data: %s, %d classes, %d training and %d validation images%n", data,
                splits.classes().size(), splits.train().size(), splits.validation().size());

        // 1. The base network with its ImageNet classifier (1000 classes).
        Examples.BaseModel base = Examples.baseModel(args, true);
        int res = base.resolution();
        System.out.println("Base network: " + base.weights());
        if (base.weights().contains("random weights")) {
            System.out.println("Note: frozen random features say almost nothing about the images (in inference mode a "
                    + "randomly initialised EfficientNet's activations nearly vanish), so expect chance-level accuracy; "
                    + "the numbers mean something with ImageNet weights only.");
        }

        // 2. Freeze everything up to top_activation and put a new classifier for our classes in place of 'predictions'.
        ComputationGraph net = withNewHead(base.network(), splits.classes().size(), lr);
        System.out.printf("Frozen up to '%s'; trainable parameters: %,d of %,d%n", FREEZE_UP_TO,
                trainableParams(net), net.numParams());

        // 3. Accuracy with the untrained head (about 1 / classes).
        double before = evaluate(net, splits, res, batch).top1();
        System.out.println("Validation accuracy before training: " + Examples.percent(before));

        // 4. Train the head on augmented, ImageNet-normalised batches.
        List<Double> losses = Examples.train(net, splits.train(), res, batch, 42, epochs, Examples.engine(args));

        // 5. Accuracy after training, and the model zip.
        EvalResult after = evaluate(net, splits, res, batch);
        System.out.println("Validation accuracy after training:  " + Examples.percent(after.top1())
                + " (top-5 " + Examples.percent(after.top5()) + ", " + after.count() + " images)");
        for (int c = 0; c < splits.classes().size(); c++) {
            System.out.printf("  %-12s %s%n", splits.classes().get(c), Examples.percent(after.classAccuracy(c)));
        }
        ModelZip.write(net, output, true, ImageNetPreprocessing.normalizer(),
                ModelZip.describe(new int[] {3, res, res}, splits.classes()));
        System.out.println("Saved " + output.toAbsolutePath());
        System.out.printf("Result: accuracy %s -> %s with %s%n", Examples.percent(before),
                Examples.percent(after.top1()), base.weights());
        return new Result(base.weights(), splits.classes(), before, after.top1(), losses, output);
    }

    /**
     * The transfer-learning surgery with DL4J's {@link TransferLearning.GraphBuilder}: freeze up to
     * {@value #FREEZE_UP_TO} and give {@code predictions} {@code numClasses} outputs (new Xavier weights). A headless
     * network (a no-top Keras file) gets a new {@code predictions} layer after {@code avg_pool} instead.
     */
    static ComputationGraph withNewHead(ComputationGraph base, int numClasses, double lr) {
        TransferLearning.GraphBuilder b = new TransferLearning.GraphBuilder(base)
                .fineTuneConfiguration(new FineTuneConfiguration.Builder().updater(new Adam(lr)).seed(42L).build())
                .setFeatureExtractor(FREEZE_UP_TO);
        if (base.getConfiguration().getVertices().containsKey("predictions")) {
            b.nOutReplace("predictions", numClasses, WeightInit.XAVIER);
        } else {
            long features = ((FeedForwardLayer) base.getLayer("top_conv").conf().getLayer()).getNOut();
            b.addLayer("predictions", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                    .nIn(features).nOut(numClasses).activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER)
                    .build(), "avg_pool").setOutputs("predictions");
        }
        return b.build();
    }

    static EvalResult evaluate(ComputationGraph net, DataSplits splits, int res, int batch) {
        try (ImageBatches val = Examples.evalBatches(splits.validation(), res, batch)) {
            return Evaluator.evaluate(net, val, splits.classes(), null);
        }
    }

    static long trainableParams(ComputationGraph net) {
        long n = 0;
        for (org.deeplearning4j.nn.api.Layer l : net.getLayers()) {
            if (!(l instanceof org.deeplearning4j.nn.layers.FrozenLayer)) {
                n += l.numParams();
            }
        }
        return n;
    }
}
