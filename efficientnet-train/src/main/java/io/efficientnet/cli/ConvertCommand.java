package io.efficientnet.cli;

import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.weights.ImageNetLabels;
import io.efficientnet.core.weights.ImageNetWeights;
import io.efficientnet.core.weights.KerasWeightFile;
import io.efficientnet.core.weights.KerasWeightImporter;
import io.efficientnet.core.weights.ModelZip;
import io.efficientnet.core.weights.PyTorchFamily;
import io.efficientnet.core.weights.PyTorchWeights;
import org.deeplearning4j.nn.graph.ComputationGraph;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code efficientnet convert}: a Keras weight file or PyTorch (torchvision / timm) weights to a DL4J
 * ModelSerializer zip (normalizer included).
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert Keras (.h5) or PyTorch (.pth, .safetensors; torchvision or timm) EfficientNet weights "
                + "into a DL4J model zip.")
public final class ConvertCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec commandSpec;

    /** Exactly one source file. */
    static final class Source {
        @Option(names = "--keras", description = "Keras weight file, e.g. efficientnetb0.h5")
        Path keras;

        @Option(names = "--pytorch", description = "PyTorch state_dict: .pth (torch.save) or .safetensors, with "
                + "torchvision or timm EfficientNet names")
        Path pytorch;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    @Option(names = "--family", description = "PyTorch weights only: torchvision, timm or timm-tf (timm's "
            + "tf_efficientnet_bN: TF-SAME padding, eps 1e-3) (default: detected from the names; timm names are "
            + "taken as timm)")
    String family;

    @Option(names = "--variant", required = true, description = "b0..b7")
    String variant;

    @Option(names = "--no-top", description = "the file has no classifier (a _notop file)")
    boolean noTop;

    @Option(names = "--pooling", defaultValue = "avg",
            description = "pooling of a --no-top model: avg, max or none (default: ${DEFAULT-VALUE})")
    String pooling;

    @Option(names = "--num-classes", description = "classifier size (default: read from the file)")
    Integer numClasses;

    @Option(names = "--output", required = true, description = "model zip to write (atomically)")
    Path output;

    @Override
    public Integer call() throws Exception {
        if (family != null && source.pytorch == null) {
            throw new IllegalArgumentException("--family applies to --pytorch weights only");
        }
        EfficientNet.Builder b = EfficientNet.builder().variant(variant).includeTop(!noTop)
                .pooling(CliValues.pooling(pooling));
        PrintWriter out = commandSpec.commandLine().getOut();
        Path input = source.keras != null ? source.keras : source.pytorch;
        KerasWeightImporter.Result r;
        EfficientNet model;
        if (source.keras != null) {
            try (KerasWeightFile file = KerasWeightFile.open(source.keras)) {
                if (!noTop) {
                    b.numClasses(numClasses != null ? numClasses : classesIn(file));
                }
                model = b.build();
                ComputationGraph net = model.init();
                r = KerasWeightImporter.load(net, file, variant.toLowerCase());
                write(model, net, r);
            }
        } else {
            PyTorchWeights weights = PyTorchWeights.load(source.pytorch,
                    family == null ? null : PyTorchFamily.parse(family));
            out.println("Reading " + source.pytorch + ": " + weights.description());
            b.matching(weights);
            if (!noTop && numClasses != null) {
                b.numClasses(numClasses);
            }
            model = b.build();
            ComputationGraph net = model.init();
            r = weights.importInto(net, variant.toLowerCase());
            write(model, net, r);
        }
        out.printf("Converted %s (%d layers, %,d values) to %s%n", input, r.layersLoaded(), r.valuesLoaded(), output);
        return 0;
    }

    private void write(EfficientNet model, ComputationGraph net, KerasWeightImporter.Result r) throws IOException {
        boolean imagenet = !noTop && model.options().numClasses() == 1000;
        ModelZip.write(net, output, false, r.normalizer(),
                ModelZip.describe(model.inputShape(), ImageNetWeights.cropFraction(model.inputShape()[1]),
                        imagenet ? ImageNetLabels.all() : null));
    }

    private static int classesIn(KerasWeightFile file) throws IOException {
        if (!file.hasLayer("predictions")) {
            throw new IllegalArgumentException(file.path() + " has no classifier ('predictions'): it is a no-top file, "
                    + "convert it with --no-top");
        }
        long[] shape = file.weights("predictions").get("kernel").shape();
        return (int) shape[shape.length - 1];
    }
}
