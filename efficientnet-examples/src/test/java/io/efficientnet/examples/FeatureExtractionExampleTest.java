package io.efficientnet.examples;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FeatureExtractionExampleTest {

    @Test
    void fastModeClassifiesEmbeddingsAndFindsNeighbours() throws Exception {
        FeatureExtractionExample.Result r = FeatureExtractionExample.run("--fast", "--data",
                "../datasets/fashion-mnist-mini", "--epochs", "50");

        assertEquals(300, r.trainImages());
        assertTrue(r.embeddingSize() > 0);
        assertTrue(r.accuracy() >= 0 && r.accuracy() <= 1, "accuracy " + r.accuracy());
        assertTrue(Files.isRegularFile(r.query()));
        assertEquals(5, r.neighbours().size());
        for (int i = 0; i < r.neighbours().size(); i++) {
            FeatureExtractionExample.Neighbour n = r.neighbours().get(i);
            assertTrue(Files.isRegularFile(n.file()), n.file().toString());
            assertTrue(n.similarity() >= -1.0001 && n.similarity() <= 1.0001, "cosine " + n.similarity());
            if (i > 0) {
                assertTrue(n.similarity() <= r.neighbours().get(i - 1).similarity(), "sorted by similarity");
            }
        }
    }
}
