package io.efficientnet.cli;

import io.efficientnet.train.export.InferenceExport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code efficientnet export}: a model zip for deployment (no updater; optionally batch norms folded). */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write a model zip for inference: without updater state; with --optimize-for-inference, every "
                + "batch norm that follows a convolution is folded into it. Normalizer, labels and input shape are "
                + "carried over; the output is written atomically.")
public final class ExportCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec commandSpec;

    @Option(names = "--model", required = true, paramLabel = "ZIP", description = "model zip (from convert or train)")
    Path model;

    @Option(names = "--output", required = true, paramLabel = "ZIP", description = "model zip to write")
    Path output;

    @Option(names = "--optimize-for-inference",
            description = "fold batch norms into the preceding convolutions (inference only: the result no longer "
                    + "normalises with batch statistics when trained)")
    boolean optimize;

    @Override
    public Integer call() throws Exception {
        InferenceExport.Report r = InferenceExport.export(model, output, optimize);
        PrintWriter out = commandSpec.commandLine().getOut();
        if (r.folding() != null) {
            out.printf("Folded %d batch norms into their convolutions: %d -> %d layers, %,d -> %,d "
                            + "parameters (%,d batch-norm values removed, %,d conv biases added)%n",
                    r.folding().folds().size(), r.layersBefore(), r.layersAfter(), r.paramsBefore(), r.paramsAfter(),
                    r.folding().removedBatchNormParams(), r.folding().addedBiasParams());
            r.folding().renamedOutputs().forEach((bn, conv) ->
                    out.printf("Output '%s' is now produced by '%s'%n", bn, conv));
        }
        if (r.normalizer()) {
            out.println("Kept the normalizer as the model's preprocessing (folding it into the stem would be "
                    + "inexact: the stem's zero padding comes after normalisation)");
        }
        if (!r.copiedEntries().isEmpty()) {
            out.println("Copied " + String.join(", ", r.copiedEntries()));
        }
        for (String s : r.skippedEntries()) {
            commandSpec.commandLine().getErr().println("warning: entry " + s + " is not text and was not copied");
        }
        out.println("Wrote " + output);
        return 0;
    }
}
