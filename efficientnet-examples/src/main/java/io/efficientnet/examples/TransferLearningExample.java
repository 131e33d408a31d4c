package io.efficientnet.examples;

import io.efficientnet.core.weights.ModelZip;
import io.efficientnet.train.data.DataSplits;
import io.efficientnet.train.data.EvalTransform;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Transfer learning: a pretrained EfficientNet becomes a classifier for classes it never saw. Everything up to
 * {@code top_activation} is frozen and {@code predictions} is replaced by a new head for the new classes (a batch
 * normalization of the pooled features, then softmax), which alone is trained; the same architecture trained from
 * scratch on the same images is the baseline. Both are trained with 10, 50 and 200 labelled images per class and
 * compared on the validation images; the transferred network of the largest budget is saved as a model zip
 * (network, normaliser, class names, input shape) that {@code bin/efficientnet predict --model} reads.
 *
 * <pre>
 * efficientnet-examples/run-example TransferLearningExample [--fast] [--backbone fashion|imagenet] [--keras B0.h5]
 *     [--data DIR] [--labels 10,50,200] [--steps N] [--batch N] [--engine auto|onednn|dl4j] [--output FILE.zip]
 * </pre>
 *
 * The backbone is the small one shipped with the project (trained on five Fashion-MNIST classes; {@link Backbone}),
 * the target task the other five classes of {@code datasets/fashion-mnist-mini} ({@link TransferStudy}). Every run
 * takes {@code --steps} optimizer steps (default 300). {@code --fast}: 10 labels per class and 60 steps.
 */
public final class TransferLearningExample {

    /**
     * @param backbone where the pretrained weights came from
     * @param classes  the target classes
     * @param rows     every trained network's validation accuracy
     * @param model    the saved zip
     */
    public record Result(String backbone, List<String> classes, List<TransferStudy.Row> rows, Path model) {

        /** Validation accuracy of {@code method} with {@code perClass} labels per class. */
        public double accuracy(TransferStudy.Method method, int perClass) {
            return rows.stream().filter(r -> r.method() == method && r.labelsPerClass() == perClass).findFirst()
                    .orElseThrow().accuracy();
        }
    }

    private TransferLearningExample() {
    }

    public static void main(String[] args) throws Exception {
        run(args);
    }

    public static Result run(String... argv) throws Exception {
        Examples.Args args = Examples.Args.parse(argv);
        List<Integer> budgets = labelBudgets(args);
        TransferStudy.Settings settings = settings(args);
        Path output = Path.of(args.get("output", "runs/examples/transfer-learning.zip"));

        Backbone backbone = Backbone.choose(args);
        DataSplits target = TransferStudy.target(Examples.dataRoot(args));
        System.out.println("Backbone: " + backbone.description());
        System.out.printf("Target task: %s (%d validation images); %d steps of batch %d per network%n",
                target.classes(), target.validation().size(), settings.steps(), settings.batchSize());

        List<TransferStudy.Row> rows = new ArrayList<>();
        for (int budget : budgets) {
            rows.add(TransferStudy.run(TransferStudy.Method.SCRATCH, backbone, target, budget, settings));
            rows.add(TransferStudy.run(TransferStudy.Method.FROZEN, backbone, target, budget, settings));
        }
        System.out.println();
        System.out.print(TransferStudy.table(rows, List.of(TransferStudy.Method.SCRATCH,
                TransferStudy.Method.FROZEN)));

        TransferStudy.Row saved = rows.get(rows.size() - 1);
        ModelZip.write(saved.network(), output, false, backbone.normalizer(),
                ModelZip.describe(new int[] {3, backbone.resolution(), backbone.resolution()},
                        EvalTransform.CROP_FRACTION, target.classes()));
        System.out.println("Saved " + output.toAbsolutePath() + " (frozen backbone, " + saved.labelsPerClass()
                + " labels per class)");
        Result r = new Result(backbone.description(), target.classes(), rows, output);
        int fewest = budgets.get(0);
        System.out.printf(Locale.ROOT, "Result: with %d labels per class, the frozen backbone reaches %.1f%% against "
                        + "%.1f%% from scratch%n", fewest, 100 * r.accuracy(TransferStudy.Method.FROZEN, fewest),
                100 * r.accuracy(TransferStudy.Method.SCRATCH, fewest));
        return r;
    }

    /** {@code --labels 10,50,200}: labelled training images per class (fast mode: 10). */
    static List<Integer> labelBudgets(Examples.Args args) {
        String given = args.get("labels", args.fast() ? "10" : "10,50,200");
        return Arrays.stream(given.split(",")).map(String::trim).map(Integer::parseInt).sorted().toList();
    }

    /** {@code --steps} (default 300, fast 60), {@code --batch} (32), {@code --from} (block4), {@code --engine}. */
    static TransferStudy.Settings settings(Examples.Args args) {
        return new TransferStudy.Settings(args.getInt("steps", args.fast() ? 60 : 300), args.getInt("batch", 32),
                args.get("from", "block4"), Examples.engine(args));
    }
}
