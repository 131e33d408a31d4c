package io.efficientnet.examples;

import io.efficientnet.train.data.DataSplits;
import io.efficientnet.train.data.LabeledImage;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class FeatureExtractionExampleTest {

    @Test
    void fastModeClassifiesEmbeddingsWellAboveChanceAndFindsNeighbours() throws Exception {
        FeatureExtractionExample.Result r = FeatureExtractionExample.run("--fast", "--data", RepoPaths.data(),
                "--epochs", "50", "--steps", "10");

        assertEquals(Backbone.fashion().classifier().getLayer("top_conv").getParam("W").size(0), r.embeddingSize(),
                "one value per channel of top_conv (average pooling)");
        assertEquals(1, r.budgets().size());
        FeatureExtractionExample.Budget b = r.budgets().get(0);
        assertEquals(10, b.labelsPerClass());
        double bound = TransferLearningExampleTest.aboveChance(250);
        assertTrue(b.classifier() > bound, "classifier on embeddings " + b.classifier() + " against " + bound);
        assertTrue(b.nearestNeighbour() > bound, "nearest neighbour " + b.nearestNeighbour() + " against " + bound);
        assertTrue(Files.isRegularFile(r.query()));
        assertEquals(r.query().getParent().getFileName().toString(), r.queryLabel(), "the query's class folder");
        assertEquals(5, r.neighbours().size());
        for (int i = 0; i < r.neighbours().size(); i++) {
            FeatureExtractionExample.Neighbour n = r.neighbours().get(i);
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
        Backbone backbone = Backbone.fashion();
        DataSplits target = TransferStudy.target(Path.of(RepoPaths.data()));
        var train = Examples.limit(target.train(), 30);
        FeatureExtractionExample.Embeddings e = FeatureExtractionExample.embed(
                FeatureExtractionExample.helper(backbone, 5), train, backbone);

        int n = train.size();
        long size = e.features().size(1);
        assertArrayEquals(new long[] {n, size}, e.features().shape());
        assertArrayEquals(new long[] {n, 5}, e.labels().shape());
        for (int i = 0; i < n; i++) {
            assertEquals(e.images().get(i).label(), e.labels().getRow(i).argMax().getInt(0),
                    "one-hot label of row " + i);
        }
        // every image is nearer to itself than to any other, and its nearest other image shares its class far more
        // often than chance
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
        assertTrue(sameClass > TransferLearningExampleTest.aboveChance(n) * n,
                sameClass + " of " + n + " nearest neighbours share the class");
    }
}
