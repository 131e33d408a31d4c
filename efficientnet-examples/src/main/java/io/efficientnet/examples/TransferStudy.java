package io.efficientnet.examples;

import io.efficientnet.core.engine.Engine;
import io.efficientnet.core.engine.Engines;
import io.efficientnet.core.engine.InferenceSession;
import io.efficientnet.train.data.DataSplits;
import io.efficientnet.train.data.ImageBatches;
import io.efficientnet.train.data.ImageFolder;
import io.efficientnet.train.data.LabeledImage;
import io.efficientnet.train.run.EvalResult;
import io.efficientnet.train.run.Evaluator;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The comparison the transfer-learning examples and the notebook print: on a target task the backbone never saw, a
 * network trained from scratch against the backbone with a new head (frozen) and the backbone with its top blocks
 * fine-tuned, at several numbers of labelled images per class. Every run takes the same number of optimizer steps.
 */
final class TransferStudy {

    /** The target task: the five Fashion-MNIST classes the shipped backbone was not trained on. */
    static final List<String> TARGET_CLASSES = List.of("sandal", "shirt", "sneaker", "bag", "ankle-boot");
    /** The vertex up to which (inclusive) the frozen method freezes the backbone. */
    static final String FREEZE_UP_TO = "top_activation";

    /** How a network for the target task is made from the backbone. */
    enum Method {
        SCRATCH("from scratch", 3e-3),
        FROZEN("frozen backbone", 3e-3),
        FINE_TUNED("fine-tuned", 1e-3);

        final String label;
        final double learningRate;

        Method(String label, double learningRate) {
            this.label = label;
            this.learningRate = learningRate;
        }
    }

    /**
     * One trained network's result.
     *
     * @param accuracy validation top-1 on the target classes
     * @param losses   mean training loss per epoch
     */
    record Row(Method method, int labelsPerClass, double accuracy, double seconds, List<Double> losses,
               ComputationGraph network) {
    }

    /** Steps and batch size of each run. */
    record Settings(int steps, int batchSize, String fineTuneFrom, Engine engine) {
    }

    private TransferStudy() {
    }

    /** The target classes of {@code root} (the bundled data by default): its train and validation images. */
    static DataSplits target(Path root) throws IOException {
        DataSplits all = DataSplits.open(root, 0.2, 42);
        for (String c : TARGET_CLASSES) {
            if (!all.classes().contains(c)) {
                throw new IllegalArgumentException(root + " has no class folder '" + c + "' (the target classes are "
                        + TARGET_CLASSES + ")");
            }
        }
        return new DataSplits(TARGET_CLASSES, select(all.train(), all.classes()), select(all.validation(),
                all.classes()));
    }

    /** The images of the target classes, labelled by their position in {@link #TARGET_CLASSES}. */
    private static ImageFolder select(ImageFolder folder, List<String> classes) {
        List<LabeledImage> kept = new ArrayList<>();
        for (LabeledImage li : folder.images()) {
            int target = TARGET_CLASSES.indexOf(classes.get(li.label()));
            if (target >= 0) {
                kept.add(new LabeledImage(li.file(), target));
            }
        }
        return new ImageFolder(folder.root(), TARGET_CLASSES, kept);
    }

    /** Trains one network by {@code method} on the first {@code perClass} training images of each class. */
    static Row run(Method method, Backbone backbone, DataSplits target, int perClass, Settings s) {
        ImageFolder train = Examples.limit(target.train(), perClass);
        ComputationGraph net = network(method, backbone, target.classes().size(), s.fineTuneFrom());
        int batch = Math.min(s.batchSize(), train.size());
        int stepsPerEpoch = (train.size() + batch - 1) / batch;
        int epochs = Math.max(1, (s.steps() + stepsPerEpoch - 1) / stepsPerEpoch);
        long t0 = System.nanoTime();
        List<Double> losses = Examples.train(net, train, backbone.resolution(), batch, 42, epochs, s.engine(),
                backbone.normalizer(), false);
        double seconds = (System.nanoTime() - t0) / 1e9;
        double accuracy = evaluate(net, target, backbone, s.engine()).top1();
        System.out.printf(Locale.ROOT, "%-16s %3d labels per class: validation accuracy %5.1f%% (%d epochs, %.1f s)%n",
                method.label, perClass, 100 * accuracy, epochs, seconds);
        return new Row(method, perClass, accuracy, seconds, losses, net);
    }

    /** The network {@code method} trains: the architecture from scratch, or the backbone with a new head. */
    static ComputationGraph network(Method method, Backbone backbone, int numClasses, String fineTuneFrom) {
        if (method == Method.SCRATCH) {
            return backbone.architecture().numClasses(numClasses).updater(new Adam(method.learningRate)).build()
                    .init();
        }
        ComputationGraph base = backbone.classifier().clone();
        TransferLearning.GraphBuilder b = new TransferLearning.GraphBuilder(base)
                .fineTuneConfiguration(new FineTuneConfiguration.Builder().updater(new Adam(method.learningRate))
                        .seed(42L).build())
                .setFeatureExtractor(method == Method.FROZEN ? FREEZE_UP_TO : inputOfFirst(base, fineTuneFrom));
        long features = ((FeedForwardLayer) base.getLayer("top_conv").conf().getLayer()).getNOut();
        if (method == Method.FROZEN) {
            // The frozen features vary little on classes the backbone never saw (their spread is a small fraction of
            // their mean): the new head standardises them first, as a linear probe on normalised features does.
            for (String v : List.of("predictions", "top_dropout")) {
                if (base.getConfiguration().getVertices().containsKey(v)) {
                    b.removeVertexAndConnections(v);
                }
            }
            b.addLayer("head_bn", new BatchNormalization.Builder().nIn(features).nOut(features).build(), "avg_pool")
                    .addLayer("predictions", head(features, numClasses), "head_bn").setOutputs("predictions");
        } else if (base.getConfiguration().getVertices().containsKey("predictions")) {
            b.nOutReplace("predictions", numClasses, WeightInit.XAVIER);
        } else {
            b.addLayer("predictions", head(features, numClasses), "avg_pool").setOutputs("predictions");
        }
        return b.build();
    }

    private static OutputLayer head(long features, int numClasses) {
        return new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(features).nOut(numClasses)
                .activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).build();
    }

    /** Validation metrics of {@code net} on the target task, through {@code engine}. */
    static EvalResult evaluate(ComputationGraph net, DataSplits target, Backbone backbone, Engine engine) {
        try (ImageBatches val = Examples.evalBatches(target.validation(), backbone.resolution(), 50,
                backbone.normalizer());
             InferenceSession session = Engines.inference(net, engine, note -> { })) {
            return Evaluator.evaluate(session::output, val, target.classes(), null);
        }
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

    /** Trainable parameters: those outside DL4J's frozen wrappers. */
    static long trainableParams(ComputationGraph net) {
        long n = 0;
        for (org.deeplearning4j.nn.api.Layer l : net.getLayers()) {
            if (!(l instanceof org.deeplearning4j.nn.layers.FrozenLayer)) {
                n += l.numParams();
            }
        }
        return n;
    }

    /** The rows as a table: one line per label budget, one column per method. */
    static String table(List<Row> rows, List<Method> methods) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-17s", "labels per class"));
        methods.forEach(m -> sb.append(String.format(Locale.ROOT, " | %-16s", m.label)));
        sb.append('\n');
        rows.stream().map(Row::labelsPerClass).distinct().forEach(budget -> {
            sb.append(String.format(Locale.ROOT, "%-17d", budget));
            for (Method m : methods) {
                String cell = rows.stream().filter(r -> r.labelsPerClass() == budget && r.method() == m).findFirst()
                        .map(r -> String.format(Locale.ROOT, "%.1f%%", 100 * r.accuracy())).orElse("");
                sb.append(String.format(Locale.ROOT, " | %-16s", cell));
            }
            sb.append('\n');
        });
        return sb.toString();
    }
}
