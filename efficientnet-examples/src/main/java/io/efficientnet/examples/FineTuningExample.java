package io.efficientnet.examples;

import io.efficientnet.core.weights.ModelZip;
import io.efficientnet.train.data.DataSplits;
import io.efficientnet.train.data.EvalTransform;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Fine-tuning: as in {@link TransferLearningExample} the backbone gets a new classifier for the target classes, but
 * its top blocks (from {@code block4} on) train too, at a lower learning rate than training from scratch; the layers
 * below stay frozen. The table compares it with the frozen backbone and with training from scratch at each number of
 * labels per class; the fine-tuned network of the largest budget is saved.
 *
 * <pre>
 * efficientnet-examples/run-example FineTuningExample [--fast] [--backbone fashion|imagenet] [--keras B0.h5]
 *     [--data DIR] [--from block4] [--labels 10,50,200] [--steps N] [--batch N] [--engine auto|onednn|dl4j]
 *     [--output FILE.zip]
 * </pre>
 */
public final class FineTuningExample {

    /**
     * @param unfrozenFrom the first block that trains
     * @param rows         every trained network's validation accuracy
     * @param model        the saved zip
     */
    public record Result(String unfrozenFrom, long trainableParams, long totalParams, List<TransferStudy.Row> rows,
                         Path model) {

        /** Validation accuracy of {@code method} with {@code perClass} labels per class. */
        public double accuracy(TransferStudy.Method method, int perClass) {
            return rows.stream().filter(r -> r.method() == method && r.labelsPerClass() == perClass).findFirst()
                    .orElseThrow().accuracy();
        }
    }

    private FineTuningExample() {
    }

    public static void main(String[] args) throws Exception {
        run(args);
    }

    public static Result run(String... argv) throws Exception {
        Examples.Args args = Examples.Args.parse(argv);
        List<Integer> budgets = TransferLearningExample.labelBudgets(args);
        TransferStudy.Settings settings = TransferLearningExample.settings(args);
        Path output = Path.of(args.get("output", "runs/examples/fine-tuned.zip"));

        Backbone backbone = Backbone.choose(args);
        DataSplits target = TransferStudy.target(Examples.dataRoot(args));
        var probe = TransferStudy.network(TransferStudy.Method.FINE_TUNED, backbone, target.classes().size(),
                settings.fineTuneFrom());
        long trainable = TransferStudy.trainableParams(probe);
        System.out.println("Backbone: " + backbone.description());
        System.out.printf("Fine-tuning from '%s' on: %,d of %,d parameters train, at learning rate %g (from scratch: "
                        + "%g)%n", settings.fineTuneFrom(), trainable, probe.numParams(),
                TransferStudy.Method.FINE_TUNED.learningRate, TransferStudy.Method.SCRATCH.learningRate);

        List<TransferStudy.Method> methods = List.of(TransferStudy.Method.SCRATCH, TransferStudy.Method.FROZEN,
                TransferStudy.Method.FINE_TUNED);
        List<TransferStudy.Row> rows = new ArrayList<>();
        for (int budget : budgets) {
            for (TransferStudy.Method m : methods) {
                rows.add(TransferStudy.run(m, backbone, target, budget, settings));
            }
        }
        System.out.println();
        System.out.print(TransferStudy.table(rows, methods));

        TransferStudy.Row saved = rows.get(rows.size() - 1);
        ModelZip.write(saved.network(), output, false, backbone.normalizer(),
                ModelZip.describe(new int[] {3, backbone.resolution(), backbone.resolution()},
                        EvalTransform.CROP_FRACTION, target.classes()));
        System.out.println("Saved " + output.toAbsolutePath() + " (fine-tuned, " + saved.labelsPerClass()
                + " labels per class)");
        Result r = new Result(settings.fineTuneFrom(), trainable, probe.numParams(), rows, output);
        int most = budgets.get(budgets.size() - 1);
        System.out.printf(Locale.ROOT, "Result: with %d labels per class, fine-tuned %.1f%%, frozen %.1f%%, from "
                        + "scratch %.1f%%%n", most, 100 * r.accuracy(TransferStudy.Method.FINE_TUNED, most),
                100 * r.accuracy(TransferStudy.Method.FROZEN, most), 100 * r.accuracy(TransferStudy.Method.SCRATCH,
                        most));
        return r;
    }
}
