package io.efficientnet.examples;

import io.efficientnet.train.data.DataSplits;
import io.efficientnet.train.data.ImageBatches;
import io.efficientnet.train.data.ImageFolder;
import io.efficientnet.train.data.LabeledImage;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.deeplearning4j.nn.transferlearning.TransferLearningHelper;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.preprocessor.NormalizerStandardize;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Feature extraction: the backbone up to {@code avg_pool} turns every image into an embedding once (DL4J's
 * {@link TransferLearningHelper#featurize}); a softmax classifier trains on the cached embeddings
 * ({@code fitFeaturized}), and a nearest-neighbour classifier (cosine similarity) needs no training at all. Both are
 * compared with training the network from scratch at 10, 50 and 200 labels per class, and the training images
 * nearest to one validation image are listed.
 *
 * <pre>
 * efficientnet-examples/run-example FeatureExtractionExample [--fast] [--backbone fashion|imagenet] [--keras B0.h5]
 *     [--data DIR] [--labels 10,50,200] [--epochs N] [--steps N] [--query INDEX] [--neighbours K]
 * </pre>
 */
public final class FeatureExtractionExample {

    /** A neighbour of the query image. */
    public record Neighbour(Path file, String label, double similarity) {
    }

    /** Accuracies at one label budget. */
    public record Budget(int labelsPerClass, double classifier, double nearestNeighbour, double fromScratch) {
    }

    /**
     * @param embeddingSize length of an embedding
     * @param budgets       accuracies at each label budget
     * @param query         the validation image whose neighbours were searched
     * @param queryLabel    its class
     * @param neighbours    the nearest training images, most similar first
     */
    public record Result(long embeddingSize, List<Budget> budgets, Path query, String queryLabel,
                         List<Neighbour> neighbours) {
    }

    /** Embeddings of a folder: one row per image, with one-hot labels, in the folder's order. */
    record Embeddings(INDArray features, INDArray labels, List<LabeledImage> images) {
    }

    private FeatureExtractionExample() {
    }

    public static void main(String[] args) throws Exception {
        run(args);
    }

    public static Result run(String... argv) throws Exception {
        Examples.Args args = Examples.Args.parse(argv);
        List<Integer> budgetList = TransferLearningExample.labelBudgets(args);
        TransferStudy.Settings settings = TransferLearningExample.settings(args);
        int epochs = args.getInt("epochs", 200);
        int k = args.getInt("neighbours", 5);

        Backbone backbone = Backbone.choose(args);
        DataSplits target = TransferStudy.target(Examples.dataRoot(args));
        System.out.println("Backbone: " + backbone.description());

        // 1. Embeddings: everything up to avg_pool is frozen; featurize() runs that part once per image.
        TransferLearningHelper helper = helper(backbone, target.classes().size());
        long t0 = System.nanoTime();
        Embeddings train = embed(helper, target.train(), backbone);
        Embeddings val = embed(helper, target.validation(), backbone);
        long dim = train.features().size(1);
        System.out.printf("Embedded %d training and %d validation images into %d-dimensional vectors in %.1f s%n",
                train.images().size(), val.images().size(), dim, (System.nanoTime() - t0) / 1e9);

        // 2. At each budget: a softmax classifier on the embeddings, nearest neighbours, and a network from scratch.
        List<Budget> budgets = new ArrayList<>();
        for (int perClass : budgetList) {
            int[] rows = firstPerClass(train.images(), perClass);
            INDArray x = train.features().get(NDArrayIndex.indices(toLongs(rows)), NDArrayIndex.all());
            INDArray y = train.labels().get(NDArrayIndex.indices(toLongs(rows)), NDArrayIndex.all());
            double classifier = classifierAccuracy(helper(backbone, target.classes().size()), x, y, val, epochs,
                    target.classes());
            double nearest = nearestNeighbourAccuracy(x, y, val);
            double scratch = TransferStudy.run(TransferStudy.Method.SCRATCH, backbone, target, perClass, settings)
                    .accuracy();
            budgets.add(new Budget(perClass, classifier, nearest, scratch));
            System.out.printf(Locale.ROOT, "%3d labels per class: classifier on embeddings %.1f%%, nearest neighbour "
                    + "%.1f%%, from scratch %.1f%%%n", perClass, 100 * classifier, 100 * nearest, 100 * scratch);
        }

        // 3. Nearest training images (cosine similarity) of one validation image.
        int q = args.getInt("query", 0);
        LabeledImage query = val.images().get(q);
        INDArray sims = unit(train.features()).mmul(unit(val.features().getRow(q, true)).transpose()).reshape(-1);
        INDArray order = Nd4j.sortWithIndices(sims.dup(), 0, false)[0];
        List<Neighbour> neighbours = new ArrayList<>();
        System.out.printf("Nearest training images to %s (class %s):%n", query.file(),
                target.classes().get(query.label()));
        for (int i = 0; i < Math.min(k, train.images().size()); i++) {
            int idx = order.getInt(i);
            LabeledImage li = train.images().get(idx);
            Neighbour n = new Neighbour(li.file(), target.classes().get(li.label()), sims.getDouble(idx));
            neighbours.add(n);
            System.out.printf("  %d. %-12s cosine %.4f  %s%n", i + 1, n.label(), n.similarity(), n.file());
        }
        Budget fewest = budgets.get(0);
        System.out.printf(Locale.ROOT, "Result: with %d labels per class, a classifier on the backbone's embeddings "
                        + "reaches %.1f%% and nearest neighbours %.1f%%, against %.1f%% from scratch%n",
                fewest.labelsPerClass(), 100 * fewest.classifier(), 100 * fewest.nearestNeighbour(),
                100 * fewest.fromScratch());
        return new Result(dim, budgets, query.file(), target.classes().get(query.label()), neighbours);
    }

    /** The backbone with a new softmax head, frozen up to {@code avg_pool}. */
    static TransferLearningHelper helper(Backbone backbone, int numClasses) {
        ComputationGraph net = new TransferLearning.GraphBuilder(backbone.classifier().clone())
                .fineTuneConfiguration(new FineTuneConfiguration.Builder().seed(42).updater(new Adam(1e-3)).l2(1e-4)
                        .build())
                .nOutReplace("predictions", numClasses, WeightInit.XAVIER)
                .build();
        return new TransferLearningHelper(net, "avg_pool");
    }

    /** Trains {@code helper}'s head on standardised unit-length embeddings and returns its validation accuracy. */
    static double classifierAccuracy(TransferLearningHelper helper, INDArray x, INDArray y, Embeddings val,
            int epochs, List<String> classes) {
        NormalizerStandardize standardize = new NormalizerStandardize();
        DataSet trainSet = new DataSet(unit(x), y);
        DataSet valSet = new DataSet(unit(val.features()), val.labels());
        standardize.fit(trainSet);
        standardize.preProcess(trainSet);
        standardize.preProcess(valSet);
        for (int e = 0; e < epochs; e++) {
            helper.fitFeaturized(trainSet);
        }
        Evaluation eval = new Evaluation(classes);
        eval.eval(valSet.getLabels(), helper.unfrozenGraph().outputSingle(valSet.getFeatures()));
        return eval.accuracy();
    }

    /** Accuracy of labelling each validation image with its most similar (cosine) training image's class. */
    static double nearestNeighbourAccuracy(INDArray x, INDArray y, Embeddings val) {
        INDArray sims = unit(val.features()).mmul(unit(x).transpose());
        INDArray nearest = sims.argMax(1);
        int correct = 0;
        for (int i = 0; i < val.images().size(); i++) {
            if (y.getRow(nearest.getInt(i)).argMax().getInt(0) == val.images().get(i).label()) {
                correct++;
            }
        }
        return (double) correct / val.images().size();
    }

    /** Row indices of the first {@code perClass} images of each class. */
    static int[] firstPerClass(List<LabeledImage> images, int perClass) {
        java.util.Map<Integer, Integer> taken = new java.util.HashMap<>();
        List<Integer> rows = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            if (taken.merge(images.get(i).label(), 1, Integer::sum) <= perClass) {
                rows.add(i);
            }
        }
        return rows.stream().mapToInt(Integer::intValue).toArray();
    }

    private static long[] toLongs(int[] rows) {
        long[] out = new long[rows.length];
        for (int i = 0; i < rows.length; i++) {
            out[i] = rows[i];
        }
        return out;
    }

    /** Featurizes {@code folder} (evaluation transform, in file order) through the helper's frozen part. */
    static Embeddings embed(TransferLearningHelper helper, ImageFolder folder, Backbone backbone) {
        List<INDArray> features = new ArrayList<>();
        List<INDArray> labels = new ArrayList<>();
        try (ImageBatches batches = Examples.evalBatches(folder, backbone.resolution(), 50, backbone.normalizer())) {
            while (batches.hasNext()) {
                DataSet ds = helper.featurize(batches.next());
                features.add(ds.getFeatures());
                labels.add(ds.getLabels());
            }
        }
        return new Embeddings(Nd4j.vstack(features.toArray(new INDArray[0])),
                Nd4j.vstack(labels.toArray(new INDArray[0])), folder.images());
    }

    /** Rows scaled to unit length. */
    static INDArray unit(INDArray rows) {
        INDArray norms = rows.norm2(1).addi(1e-12).reshape(-1, 1);
        return rows.divColumnVector(norms);
    }
}
