package io.efficientnet.cli;

import io.efficientnet.core.engine.Engine;
import io.efficientnet.core.engine.Engines;
import io.efficientnet.core.engine.InferenceSession;
import io.efficientnet.train.data.DataSplits;
import io.efficientnet.train.data.EvalTransform;
import io.efficientnet.train.data.ImageBatches;
import io.efficientnet.train.data.ImageFolder;
import io.efficientnet.train.data.SampleTransform;
import io.efficientnet.train.data.SkippedImages;
import io.efficientnet.train.run.AtomicFiles;
import io.efficientnet.train.run.EvalResult;
import io.efficientnet.train.run.Evaluator;
import io.efficientnet.train.run.SavedModel;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code efficientnet evaluate}: top-1/top-5, per-class accuracy and the confusion matrix on a labelled folder. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Evaluate a model zip on labelled images (DIR/<class>/* or DIR/val/<class>/*): top-1, top-5, "
                + "per-class accuracy, confusion matrix CSV.")
public final class EvaluateCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec commandSpec;

    @Option(names = "--model", required = true, description = "model zip with a class list (from train)")
    Path model;

    @Option(names = "--data", required = true, description = "folder of class folders, or a tree with val/")
    Path data;

    @Option(names = "--batch-size", defaultValue = "32", description = "images per batch (default: ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--workers", defaultValue = "2", description = "decoding threads (default: ${DEFAULT-VALUE})")
    int workers;

    @Option(names = "--engine", defaultValue = "auto", paramLabel = "ENGINE",
            description = "auto (oneDNN where it can run the model, else DL4J, saying why), onednn or dl4j "
                    + "(default: ${DEFAULT-VALUE})")
    String engine;

    @Option(names = "--confusion", description = "confusion matrix CSV (default: confusion-matrix.csv beside the model)")
    Path confusion;

    @Option(names = "--json", description = "print one JSON object (top1, top5, count, loss, per_class, ...)")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (batchSize < 1 || workers < 1) {
            throw new IllegalArgumentException("--batch-size and --workers must be >= 1, got " + batchSize + " and "
                    + workers);
        }
        PrintWriter out = commandSpec.commandLine().getOut();
        PrintWriter err = commandSpec.commandLine().getErr();
        SavedModel saved = SavedModel.load(model);
        if (saved.labels() == null) {
            throw new IllegalArgumentException(model + " has no class list (labels.txt); evaluate needs the classes "
                    + "the model was trained on (models from 'train' have them)");
        }
        ImageFolder folder = DataSplits.evaluationFolder(data, saved.labels());
        int h = saved.inputShape()[1];
        int w = saved.inputShape()[2];
        SkippedImages skipped = new SkippedImages(err::println);
        EvalResult r;
        String engineUsed;
        try (ImageBatches batches = new ImageBatches(folder, SampleTransform.of(new EvalTransform(h, w,
                saved.evalCrop())), h, w, batchSize, false, 0, workers, 2, 0, skipped)) {
            batches.setPreProcessor(saved.normalizer());
            try (InferenceSession session = Engines.inference(saved.network(), Engine.parse(engine, "--engine"),
                    err::println)) {
                r = Evaluator.evaluate(session::output, batches, saved.labels(), null);
                engineUsed = session.description();
            }
        }
        Path csv = confusion != null ? confusion
                : model.toAbsolutePath().getParent().resolve("confusion-matrix.csv");
        AtomicFiles.writeString(csv, r.confusionCsv());
        Map<String, Double> perClass = new LinkedHashMap<>();
        for (int c = 0; c < r.classes().size(); c++) {
            perClass.put(r.classes().get(c), r.classAccuracy(c));
        }
        if (json) {
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("model", model.toString());
            result.put("data", folder.root().toString());
            result.put("top1", r.top1());
            result.put("top5", r.top5());
            result.put("count", r.count());
            result.put("engine", engineUsed);
            result.put("loss", r.loss());
            result.put("skipped", skipped.count());
            result.put("per_class", perClass);
            result.put("confusion_matrix", csv.toString());
            out.println(new ObjectMapper().writeValueAsString(result));
        } else {
            out.printf(Locale.ROOT, "%s on %s: %d images%s (inference: %s)%n", model, folder.root(),
                    r.count(), skipped.count() > 0 ? " (" + skipped.count() + " unreadable skipped)" : "", engineUsed);
            out.printf(Locale.ROOT, "top-1 %.2f%%  top-%d %.2f%%  loss %.4f%n", 100 * r.top1(),
                    Math.min(5, r.classes().size()), 100 * r.top5(), r.loss());
            out.println("per-class accuracy:");
            perClass.forEach((name, acc) -> out.printf(Locale.ROOT, "  %-24s %6.2f%%%n", name, 100 * acc));
            out.println("confusion matrix: " + csv);
        }
        return 0;
    }
}
