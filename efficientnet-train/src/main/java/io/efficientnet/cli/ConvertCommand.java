package io.efficientnet.cli;

import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.weights.KerasWeightFile;
import io.efficientnet.core.weights.KerasWeightImporter;
import io.efficientnet.core.weights.ModelZip;
import org.deeplearning4j.nn.graph.ComputationGraph;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code efficientnet convert}: Keras weight file to a DL4J ModelSerializer zip (normalizer included). */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert a Keras EfficientNet weight file (.h5) into a DL4J model zip.")
public final class ConvertCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec commandSpec;

    @Option(names = "--keras", required = true, description = "Keras weight file, e.g. efficientnetb0.h5")
    Path keras;

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
        EfficientNet.Builder b = EfficientNet.builder().variant(variant).includeTop(!noTop)
                .pooling(CliValues.pooling(pooling));
        try (KerasWeightFile file = KerasWeightFile.open(keras)) {
            if (!noTop) {
                int classes = numClasses != null ? numClasses : classesIn(file);
                b.numClasses(classes);
            }
            EfficientNet model = b.build();
            ComputationGraph net = model.init();
            KerasWeightImporter.Result r = KerasWeightImporter.load(net, file, variant.toLowerCase());
            boolean imagenet = !noTop && model.options().numClasses() == 1000;
            ModelZip.write(net, output, false, r.normalizer(), ModelZip.describe(model.inputShape(),
                    imagenet ? io.efficientnet.core.weights.ImageNetLabels.all() : null));
            commandSpec.commandLine().getOut().printf("Converted %s (%d layers, %,d values) to %s%n", keras,
                    r.layersLoaded(), r.valuesLoaded(), output);
        }
        return 0;
    }

    private static int classesIn(KerasWeightFile file) throws java.io.IOException {
        if (!file.hasLayer("predictions")) {
            throw new IllegalArgumentException(file.path() + " has no classifier ('predictions'): it is a no-top file, "
                    + "convert it with --no-top");
        }
        long[] shape = file.weights("predictions").get("kernel").shape();
        return (int) shape[shape.length - 1];
    }
}
