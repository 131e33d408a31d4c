package io.efficientnet.examples;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InferenceExampleTest {

    private static void assertTable(InferenceExample.Result r, int images, int labelsPerImage) {
        assertEquals(images, r.predictions().size());
        for (InferenceExample.Prediction p : r.predictions()) {
            assertTrue(Files.isRegularFile(p.file()));
            assertEquals(labelsPerImage, p.labels().size());
            for (int i = 0; i < p.probabilities().size(); i++) {
                double q = p.probabilities().get(i);
                assertTrue(q >= 0 && q <= 1, "probability " + q);
                if (i > 0) {
                    assertTrue(q <= p.probabilities().get(i - 1), "sorted");
                }
            }
        }
        assertTrue(r.imagesPerSecond() > 0 && Double.isFinite(r.imagesPerSecond()));
        assertTrue(r.forwardImagesPerSecond() >= r.imagesPerSecond());
    }

    @Test
    void fastModePrintsTop5ImageNetClassesAndThroughput() throws Exception {
        InferenceExample.Result r = InferenceExample.run("--fast", "--batch", "8",
                RepoPaths.data("val", "bag"), RepoPaths.data("val", "coat"));
        assertTable(r, 32, 5);
        assertTrue(r.model().contains("random weights"), r.model());
        assertTrue(r.engine().startsWith("oneDNN"), r.engine());

        InferenceExample.Result sharded = InferenceExample.run("--fast", "--batch", "8", "--engine", "dl4j",
                RepoPaths.data("val", "bag"), RepoPaths.data("val", "coat"));
        assertTable(sharded, 32, 5);
        assertEquals("DL4J", sharded.engine());
        for (int i = 0; i < 32; i++) {
            InferenceExample.Prediction a = r.predictions().get(i);
            InferenceExample.Prediction b = sharded.predictions().get(i);
            assertEquals(a.file(), b.file());
            for (int k = 0; k < 5; k++) {
                assertEquals(a.probabilities().get(k), b.probabilities().get(k), 1e-5,
                        "the same k-th probability from oneDNN and DL4J");
                boolean tie = k > 0 && a.probabilities().get(k - 1) - a.probabilities().get(k) < 1e-5
                        || k < 4 && a.probabilities().get(k) - a.probabilities().get(k + 1) < 1e-5;
                if (!tie) { // random weights give near-uniform probabilities; near-ties may swap between engines
                    assertEquals(a.labels().get(k), b.labels().get(k), "same class at rank " + k);
                }
            }
        }
    }

    @Test
    void classifiesWithASavedModelAndItsClassNames(@TempDir Path dir) throws Exception {
        Path zip = dir.resolve("tl.zip");
        TransferLearningExample.Result tl = TransferLearningExample.run("--fast", "--data",
                RepoPaths.data(), "--epochs", "1", "--output", zip.toString());
        InferenceExample.Result r = InferenceExample.run("--fast", "--model", zip.toString(), "--limit", "12",
                RepoPaths.data("val"));
        assertTable(r, 12, 5);
        r.predictions().forEach(p -> assertTrue(tl.classes().containsAll(p.labels()), p.labels().toString()));
    }
}
