package io.efficientnet.examples;

import io.efficientnet.core.weights.ModelZip;
import io.efficientnet.train.data.DataSplits;
import io.efficientnet.train.run.EvalResult;
import io.efficientnet.train.run.SavedModel;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.nd4j.linalg.learning.config.Adam;

import java.nio.file.Path;
import java.util.List;

/**
 * Fine-tuning: continues from {@link TransferLearningExample}'s zip with the top of the network unfrozen (block 6,
 * block 7 and the top convolution) and a learning rate ten times lower, so the ImageNet features adapt to the new
 * images without being destroyed.
 *
 * <pre>
 * efficientnet-examples/run-example FineTuningExample [--fast] [--model runs/examples/transfer-learning.zip]
 *     [--data DIR] [--from block6] [--epochs N] [--batch N] [--lr X] [--engine auto|onednn|dl4j] [--output FILE.zip]
 * </pre>
 *
 * Full mode: 2 epochs at learning rate 1e-4 over {@code datasets/fashion-mnist-mini}; {@code --fast}: 2 epochs on
 * 30 training and 10 validation images per class (use it with a {@code --fast} model from the first example).
 * Steps run on the engine {@link io.efficientnet.core.engine.Engines#training} chooses ({@code --engine auto}).
 */
public final class FineTuningExample {

    /**
     * @param unfrozenFrom   first vertex that trains again
     * @param accuracyBefore validation top-1 of the loaded model
     * @param accuracyAfter  validation top-1 after fine-tuning
     * @param losses         mean training loss per epoch
     * @param model          the saved zip
     */
    public record Result(String unfrozenFrom, long trainableParams, double accuracyBefore, double accuracyAfter,
                         List<Double> losses, Path model) {
    }

    private FineTuningExample() {
    }

    public static void main(String[] args) throws Exception {
        run(args);
    }

    public static Result run(String... argv) throws Exception {
        Examples.Args args = Examples.Args.parse(argv);
        Path input = Path.of(args.get("model", "runs/examples/transfer-learning.zip"));
        Path output = Path.of(args.get("output", "runs/examples/fine-tuned.zip"));
        String from = args.get("from", "block6");
        int epochs = args.getInt("epochs", 2);
        int batch = args.getInt("batch", args.fast() ? 16 : 32);
        double lr = args.getDouble("lr", args.fast() ? 1e-3 : 1e-4);

        SavedModel saved = SavedModel.load(input);
        int res = saved.inputShape()[1];
        System.out.printf("Loaded %s: %d classes, input %dx%d%n", input, saved.labels().size(), res, res);
        DataSplits splits = Examples.open(Examples.dataRoot(args), args, 30, 10);
        if (!splits.classes().equals(saved.labels())) {
            throw new IllegalArgumentException("the model's classes " + saved.labels() + " are not the data's "
                    + splits.classes());
        }
        double before = TransferLearningExample.evaluate(saved.network(), splits, res, batch).top1();
        System.out.println("Validation accuracy of the loaded model: " + Examples.percent(before));

        // Unfreeze everything, then freeze again only up to the input of the first '<from>' layer.
        ComputationGraph unfrozen = unfreezeAll(saved.network(), res, saved.labels().size());
        String boundary = inputOfFirst(unfrozen, from);
        ComputationGraph net = new TransferLearning.GraphBuilder(unfrozen)
                .fineTuneConfiguration(new FineTuneConfiguration.Builder().updater(new Adam(lr)).seed(42L).build())
                .setFeatureExtractor(boundary)
                .build();
        long trainable = TransferLearningExample.trainableParams(net);
        System.out.printf("Frozen up to '%s'; training '%s*' onwards at learning rate %g: %,d of %,d parameters%n",
                boundary, from, lr, trainable, net.numParams());

        List<Double> losses = Examples.train(net, splits.train(), res, batch, 7, epochs, Examples.engine(args));
        EvalResult after = TransferLearningExample.evaluate(net, splits, res, batch);
        ModelZip.write(net, output, true, saved.normalizer(), ModelZip.describe(saved.inputShape(), saved.labels()));
        System.out.println("Saved " + output.toAbsolutePath());
        System.out.printf("Result: validation accuracy %s -> %s (%+.1f points) after fine-tuning from '%s'%n",
                Examples.percent(before), Examples.percent(after.top1()), 100 * (after.top1() - before), from);
        return new Result(from, trainable, before, after.top1(), losses, output);
    }

    /**
     * The same network with every layer trainable. A saved transfer-learning graph keeps DL4J's frozen wrappers in its
     * configuration, so the graph is built again from the library (the small fast-mode network or B0, whichever has
     * the saved layers) and the saved parameters are copied in by layer name.
     */
    static ComputationGraph unfreezeAll(ComputationGraph saved, int resolution, int numClasses) {
        for (boolean fast : new boolean[] {true, false}) {
            ComputationGraph fresh = Examples.architecture(fast, resolution).numClasses(numClasses).build().init();
            if (copyByName(saved, fresh)) {
                return fresh;
            }
        }
        throw new IllegalArgumentException("the saved network is neither the fast-mode network nor B0 at "
                + resolution + "x" + resolution);
    }

    /** Copies every parameterised layer of {@code from} into the layer of the same name; false if they differ. */
    static boolean copyByName(ComputationGraph from, ComputationGraph to) {
        if (from.numParams() != to.numParams()) {
            return false;
        }
        for (org.deeplearning4j.nn.api.Layer layer : to.getLayers()) {
            if (layer.numParams() == 0) {
                continue;
            }
            org.deeplearning4j.nn.api.Layer source = from.getLayer(layer.conf().getLayer().getLayerName());
            if (source == null || source.numParams() != layer.numParams()) {
                return false;
            }
            layer.setParams(source.params().dup());
        }
        return true;
    }

    /** The vertex feeding the first vertex (in topological order) whose name starts with {@code prefix}. */
    static String inputOfFirst(ComputationGraph net, String prefix) {
        ComputationGraphConfiguration conf = net.getConfiguration();
        for (int i : net.topologicalSortOrder()) {
            String name = net.getVertices()[i].getVertexName();
            if (name.startsWith(prefix)) {
                return conf.getVertexInputs().get(name).get(0);
            }
        }
        throw new IllegalArgumentException("no layer named " + prefix + "* in the network");
    }
}
