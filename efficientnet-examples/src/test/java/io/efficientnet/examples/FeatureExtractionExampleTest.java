package io.efficientnet.examples;

import io.efficientnet.train.data.DataSplits;
import io.efficientnet.train.data.LabeledImage;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.deeplearning4j.nn.transferlearning.TransferLearningHelper;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FeatureExtractionExampleTest {

    /** Chance (10 classes) plus five binomial standard deviations at chance for {@code n} draws. */
    private static double aboveChance(int n) {
        return 0.1 + 5 * Math.sqrt(0.1 * 0.9 / n);
    }

    @Test
    void fastModeClassifiesEmbeddingsAndFindsNeighbours() throws Exception {
        FeatureExtractionExample.Result r = FeatureExtractionExample.run("--fast", "--data", RepoPaths.data(),
                "--epochs", "50");

        assertEquals(300, r.trainImages());
        long topChannels = ((FeedForwardLayer) Examples.baseModel(Examples.Args.parse("--fast"), false).network()
                .getLayer("top_conv").conf().getLayer()).getNOut();
        assertEquals(topChannels, r.embeddingSize(), "one value per channel of top_conv (average pooling)");
        // 100 validation images: a classifier that learnt nothing scores 10% ± 3%; even random-weight embeddings
        // separate these classes far better.
        assertTrue(r.accuracy() > aboveChance(100), "accuracy " + r.accuracy());
        assertTrue(Files.isRegularFile(r.query()));
        assertEquals(r.query().getParent().getFileName().toString(), r.queryLabel(), "the query's class folder");
        assertEquals(5, r.neighbours().size());
        for (int i = 0; i < r.neighbours().size(); i++) {
            FeatureExtractionExample.Neighbour n = r.neighbours().get(i);
            assertTrue(Files.isRegularFile(n.file()), n.file().toString());
            assertTrue(n.file().startsWith(Path.of(RepoPaths.data("train"))), "a training image: " + n.file());
            assertEquals(n.file().getParent().getFileName().toString(), n.label());
            assertTrue(n.similarity() >= -1.0001 && n.similarity() <= 1.0001, "cosine " + n.similarity());
            if (i > 0) {
                assertTrue(n.similarity() <= r.neighbours().get(i - 1).similarity(), "sorted by similarity");
            }
        }
    }

    @Test
    void embeddingsHaveOneRowPerImageAndEachImageIsItsOwnNearestNeighbour() throws Exception {
        Examples.Args args = Examples.Args.parse("--fast");
        DataSplits splits = Examples.open(Path.of(RepoPaths.data()), args, 30, 10);
        ComputationGraph base = Examples.baseModel(args, false).network();
        long size = ((FeedForwardLayer) base.getLayer("top_conv").conf().getLayer()).getNOut();
        ComputationGraph withHead = new TransferLearning.GraphBuilder(base)
                .fineTuneConfiguration(new FineTuneConfiguration.Builder().seed(42).build())
                .addLayer("classifier", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(size)
                        .nOut(splits.classes().size()).activation(Activation.SOFTMAX).build(), "avg_pool")
                .setOutputs("classifier").build();
        FeatureExtractionExample.Embeddings e = FeatureExtractionExample.embed(
                new TransferLearningHelper(withHead, "avg_pool"), splits.train(), 32, 32);

        int n = splits.train().size();
        assertArrayEquals(new long[] {n, size}, e.features().shape());
        assertArrayEquals(new long[] {n, splits.classes().size()}, e.labels().shape());
        for (int i = 0; i < n; i++) {
            assertEquals(e.images().get(i).label(), e.labels().getRow(i).argMax().getInt(0),
                    "one-hot label of row " + i);
        }
        // Cosine similarities: every image is nearer to itself than to any other (the embeddings tell images apart;
        // in this set the most similar other image is at 0.989, far beyond float rounding), and its nearest other
        // image shares its class far more often than chance.
        INDArray unit = FeatureExtractionExample.unit(e.features());
        INDArray sims = unit.mmul(unit.transpose());
        int sameClass = 0;
        for (int i = 0; i < n; i++) {
            int best = -1;
            for (int j = 0; j < n; j++) {
                if (j != i && (best < 0 || sims.getDouble(i, j) > sims.getDouble(i, best))) {
                    best = j;
                }
            }
            assertTrue(sims.getDouble(i, i) > sims.getDouble(i, best), "row " + i + " is its own nearest neighbour");
            LabeledImage a = e.images().get(i);
            if (e.images().get(best).label() == a.label()) {
                sameClass++;
            }
        }
        assertTrue(sameClass > aboveChance(n) * n, sameClass + " of " + n + " nearest neighbours share the class");
    }
}
