package io.efficientnet.cli;

import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.onnx.OnnxExport;
import io.efficientnet.core.onnx.OnnxOptions;
import io.efficientnet.core.weights.ImageNetPreprocessing;
import io.efficientnet.train.export.InferenceExport;
import io.efficientnet.train.run.SavedModel;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.zoo.PretrainedType;
import org.nd4j.linalg.dataset.api.preprocessor.NormalizerStandardize;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code efficientnet export}: a model zip for deployment (no updater; optionally batch norms folded), or an ONNX
 * file for ONNX Runtime, OpenVINO, TensorRT and other ONNX consumers.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Write a model for inference, atomically.",
                "--format zip (default): a model zip without updater state; with --optimize-for-inference, every batch "
                        + "norm that follows a convolution is folded into it. Normalizer, labels and input shape are "
                        + "carried over.",
                "--format onnx: an ONNX file of --model or of a network built with --variant/--phi (and "
                        + "--pretrained imagenet): batch norms folded; input 'input' float32 [batch, 3, height, width] "
                        + "(batch and size free); outputs named as the network's ('predictions': probabilities)."})
public final class ExportCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec commandSpec;

    @CommandLine.Mixin
    ModelOptions shape;

    @Option(names = "--format", defaultValue = "zip", description = "zip or onnx (default: ${DEFAULT-VALUE})")
    String format;

    @Option(names = "--model", paramLabel = "ZIP", description = "model zip (from convert or train)")
    Path model;

    @Option(names = "--pretrained", paramLabel = "WEIGHTS",
            description = "with --format onnx and --variant: imagenet (the Keras ImageNet weights)")
    String pretrained;

    @Option(names = "--output", required = true, paramLabel = "FILE", description = "model zip or .onnx file to write")
    Path output;

    @Option(names = "--opset", defaultValue = "13", description = "ONNX operator set, "
            + OnnxOptions.MIN_OPSET + " to " + OnnxOptions.MAX_OPSET + " (default: ${DEFAULT-VALUE})")
    int opset;

    @Option(names = "--include-preprocessing", description = "with --format onnx: put the model's input normaliser "
            + "in the graph, so that it takes RGB pixels 0..255 as predict does")
    boolean includePreprocessing;

    @Option(names = "--optimize-for-inference",
            description = "fold batch norms into the preceding convolutions (inference only: the result no longer "
                    + "normalises with batch statistics when trained)")
    boolean optimize;

    @Override
    public Integer call() throws Exception {
        switch (format) {
            case "onnx" -> {
                return onnx();
            }
            case "zip" -> {
                if (model == null) {
                    throw new IllegalArgumentException("--format zip exports a model zip: give it with --model");
                }
            }
            default -> throw new IllegalArgumentException("--format must be zip or onnx, got '" + format + "'");
        }
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
        out.println("Wrote " + output);
        return 0;
    }

    private int onnx() throws Exception {
        CommandLine.ParseResult parsed = commandSpec.commandLine().getParseResult();
        ComputationGraph net;
        NormalizerStandardize normalizer;
        String source;
        if (model != null) {
            for (String o : new String[] {"--variant", "--phi", "--num-classes", "--no-top", "--pretrained",
                    "--resolution", "--padding"}) {
                if (parsed.hasMatchedOption(o)) {
                    throw new IllegalArgumentException(o + " cannot be combined with --model (the zip defines the "
                            + "network)");
                }
            }
            SavedModel saved = SavedModel.load(model);
            net = saved.network();
            normalizer = saved.normalizer() instanceof NormalizerStandardize n ? n : null;
            source = model.toString();
        } else {
            EfficientNet built = shape.builder().build();
            if (pretrained == null) {
                net = built.init();
                source = built.modelName() + " (random weights)";
            } else if (pretrained.equalsIgnoreCase("imagenet")) {
                net = built.initPretrained(PretrainedType.IMAGENET);
                source = built.modelName() + " (ImageNet weights)";
            } else {
                throw new IllegalArgumentException("--pretrained must be imagenet, got '" + pretrained + "'");
            }
            normalizer = ImageNetPreprocessing.normalizer();
        }
        if (optimize) {
            throw new IllegalArgumentException("--optimize-for-inference is for --format zip (ONNX export always folds "
                    + "batch norms)");
        }
        if (includePreprocessing && normalizer == null) {
            throw new IllegalArgumentException(model + " has no standardising normaliser to include");
        }
        OnnxOptions options = OnnxOptions.defaults().withOpset(opset)
                .withPreprocessing(includePreprocessing ? normalizer : null);
        OnnxExport.write(net, output, options);
        commandSpec.commandLine().getOut().printf("Wrote %s from %s: opset %d, input '%s' float32 [batch, %d, height, "
                        + "width] (%s), outputs %s%n", output, source, opset,
                net.getConfiguration().getNetworkInputs().get(0), 3,
                includePreprocessing ? "RGB pixels 0..255" : "normalised as the network expects",
                net.getConfiguration().getNetworkOutputs());
        return 0;
    }
}
