package io.efficientnet.examples;

import io.efficientnet.train.data.DataSplits;
import io.efficientnet.train.data.ImageBatches;
import io.efficientnet.train.data.ImageFolder;
import io.efficientnet.train.data.LabeledImage;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
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
 * Feature extraction: a headless EfficientNet ({@code includeTop(false)}, average pooling) turns every image into an
 * embedding, computed once and cached in memory. A one-layer softmax classifier (a DL4J
 * {@link MultiLayerNetwork}) is trained on the cached training embeddings and evaluated on the validation ones;
 * then the training images nearest (cosine similarity) to one validation image are listed with their classes.
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

        // 1. Embeddings, computed once (the network is the expensive part) and cached in memory.
        long t0 = System.nanoTime();
        Embeddings train = embed(base.network(), splits.train(), res, batch);
        Embeddings val = embed(base.network(), splits.validation(), res, batch);
        long dim = train.features().size(1);
        System.out.printf("Embedded %d training and %d validation images into %d-dimensional vectors in %.1f s%n",
                train.images().size(), val.images().size(), dim, (System.nanoTime() - t0) / 1e9);

        // 2. A softmax classifier on the embeddings (scaled to unit length, then standardised per dimension), trained
        //    on the whole cached set each step.
        NormalizerStandardize standardize = new NormalizerStandardize();
        DataSet trainSet = new DataSet(unit(train.features()), train.labels());
        DataSet valSet = new DataSet(unit(val.features()), val.labels());
        standardize.fit(trainSet);
        standardize.preProcess(trainSet);
        standardize.preProcess(valSet);
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(42).updater(new Adam(1e-3)).l2(1e-4)
                .list()
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(dim)
                        .nOut(splits.classes().size()).activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER)
                        .build())
                .build();
        MultiLayerNetwork classifier = new MultiLayerNetwork(conf);
        classifier.init();
        for (int e = 0; e < epochs; e++) {
            classifier.fit(trainSet);
        }
        Evaluation eval = classifier.evaluate(new org.nd4j.linalg.dataset.adapter.SingletonDataSetIterator(valSet));
        System.out.printf("Classifier on embeddings (%d epochs): training loss %.4f, validation accuracy %s%n",
                epochs, classifier.score(trainSet), Examples.percent(eval.accuracy()));

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

    /** Runs the headless network over {@code folder} (evaluation transform, in file order). */
    static Embeddings embed(ComputationGraph net, ImageFolder folder, int res, int batch) {
        List<INDArray> features = new ArrayList<>();
        List<INDArray> labels = new ArrayList<>();
        try (ImageBatches batches = Examples.evalBatches(folder, res, batch)) {
            while (batches.hasNext()) {
                DataSet ds = batches.next();
                features.add(net.output(false, ds.getFeatures())[0]);
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
