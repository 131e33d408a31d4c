package io.efficientnet.examples;

import io.efficientnet.train.data.DataSplits;
import io.efficientnet.train.data.ImageBatches;
import io.efficientnet.train.data.ImageFolder;
import io.efficientnet.train.data.LabeledImage;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
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
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Feature extraction: a headless EfficientNet ({@code includeTop(false)}, average pooling) gets a new softmax layer,
 * and DL4J's {@link TransferLearningHelper} freezes everything up to {@code avg_pool}: {@code featurize} turns every
 * image into an embedding once, the embeddings are cached in memory, and {@code fitFeaturized} trains the softmax
 * layer on them; then the training images nearest (cosine similarity) to one validation image are listed with their
 * classes.
 *
 * <pre>
 * efficientnet-examples/run-example FeatureExtractionExample [--fast] [--data DIR] [--keras B0_notop.h5]
 *     [--epochs N] [--query INDEX] [--neighbours K]
 * </pre>
 *
 * Full mode: B0 at 224×224 with ImageNet weights (random when offline, which it says), all of
 * {@code datasets/fashion-mnist-mini}. {@code --fast}: a small random network at 32×32, 30 training and 10
 * validation images per class.
 */
public final class FeatureExtractionExample {

    /** A neighbour of the query image. */
    public record Neighbour(Path file, String label, double similarity) {
    }

    /**
     * @param embeddingSize length of an embedding
     * @param accuracy      validation top-1 of the classifier on the embeddings
     * @param query         the validation image whose neighbours were searched
     * @param queryLabel    its class
     * @param neighbours    the nearest training images, most similar first
     */
    public record Result(long embeddingSize, int trainImages, double accuracy, Path query, String queryLabel,
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
        int epochs = args.getInt("epochs", 200);
        int k = args.getInt("neighbours", 5);
        int batch = args.getInt("batch", 32);

        DataSplits splits = Examples.open(Examples.dataRoot(args), args, 30, 10);
        Examples.BaseModel base = Examples.baseModel(args, false);
        int res = base.resolution();
        System.out.println("Headless network (average pooling): " + base.weights());

        // 1. A classifier head on the headless network, and DL4J's TransferLearningHelper: everything up to avg_pool
        //    is frozen; featurize() runs that part once per image (the expensive part) and the embeddings are cached.
        long embeddingSize = ((FeedForwardLayer) base.network().getLayer("top_conv").conf().getLayer()).getNOut();
        ComputationGraph withHead = new TransferLearning.GraphBuilder(base.network())
                .fineTuneConfiguration(new FineTuneConfiguration.Builder().seed(42).updater(new Adam(1e-3)).l2(1e-4)
                        .build())
                .addLayer("classifier", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nIn(embeddingSize)
                        .nOut(splits.classes().size()).activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER)
                        .build(), "avg_pool")
                .setOutputs("classifier").build();
        TransferLearningHelper helper = new TransferLearningHelper(withHead, "avg_pool");
        long t0 = System.nanoTime();
        Embeddings train = embed(helper, splits.train(), res, batch);
        Embeddings val = embed(helper, splits.validation(), res, batch);
        long dim = train.features().size(1);
        System.out.printf("Embedded %d training and %d validation images into %d-dimensional vectors in %.1f s "
                        + "(TransferLearningHelper.featurize, cached in memory)%n", train.images().size(),
                val.images().size(), dim, (System.nanoTime() - t0) / 1e9);

        // 2. The unfrozen part (the new softmax layer) trains on the cached embeddings with fitFeaturized; the cached
        //    features are scaled to unit length and standardised per dimension first.
        NormalizerStandardize standardize = new NormalizerStandardize();
        DataSet trainSet = new DataSet(unit(train.features()), train.labels());
        DataSet valSet = new DataSet(unit(val.features()), val.labels());
        standardize.fit(trainSet);
        standardize.preProcess(trainSet);
        standardize.preProcess(valSet);
        for (int e = 0; e < epochs; e++) {
            helper.fitFeaturized(trainSet);
        }
        ComputationGraph classifier = helper.unfrozenGraph();
        Evaluation eval = new Evaluation(splits.classes());
        eval.eval(valSet.getLabels(), classifier.outputSingle(valSet.getFeatures()));
        System.out.printf("Classifier on embeddings (%d epochs of fitFeaturized): training loss %.4f, validation "
                + "accuracy %s%n", epochs, classifier.score(trainSet), Examples.percent(eval.accuracy()));

        // 3. Nearest training images (cosine similarity of the raw embeddings) of one validation image.
        int q = args.getInt("query", 0);
        LabeledImage query = val.images().get(q);
        INDArray unitTrain = unit(train.features());
        INDArray sims = unitTrain.mmul(unit(val.features().getRow(q, true)).transpose()).reshape(-1);
        INDArray order = Nd4j.sortWithIndices(sims.dup(), 0, false)[0];
        List<Neighbour> neighbours = new ArrayList<>();
        System.out.printf("Nearest training images to %s (class %s):%n", query.file(),
                splits.classes().get(query.label()));
        for (int i = 0; i < Math.min(k, train.images().size()); i++) {
            int idx = order.getInt(i);
            LabeledImage li = train.images().get(idx);
            Neighbour n = new Neighbour(li.file(), splits.classes().get(li.label()), sims.getDouble(idx));
            neighbours.add(n);
            System.out.printf("  %d. %-12s cosine %.4f  %s%n", i + 1, n.label(), n.similarity(), n.file());
        }
        long same = neighbours.stream().filter(n -> n.label().equals(splits.classes().get(query.label()))).count();
        System.out.printf("Result: validation accuracy %s from %s embeddings; %d of %d neighbours share the query's "
                + "class%n", Examples.percent(eval.accuracy()), base.weights(), same, neighbours.size());
        return new Result(dim, train.images().size(), eval.accuracy(), query.file(),
                splits.classes().get(query.label()), neighbours);
    }

    /** Featurizes {@code folder} (evaluation transform, in file order) through the helper's frozen part. */
    static Embeddings embed(TransferLearningHelper helper, ImageFolder folder, int res, int batch) {
        List<INDArray> features = new ArrayList<>();
        List<INDArray> labels = new ArrayList<>();
        try (ImageBatches batches = Examples.evalBatches(folder, res, batch)) {
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
