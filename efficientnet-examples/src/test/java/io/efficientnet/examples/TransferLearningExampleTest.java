package io.efficientnet.examples;

import io.efficientnet.train.run.SavedModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TransferLearningExampleTest {

    @Test
    void fastModeTrainsTheNewHeadAndSavesAZip(@TempDir Path dir) throws Exception {
        Path zip = dir.resolve("tl.zip");
        TransferLearningExample.Result r = TransferLearningExample.run("--fast", "--data",
                "../datasets/fashion-mnist-mini", "--output", zip.toString());

        assertTrue(r.weights().startsWith("random weights"), r.weights());
        assertEquals(10, r.classes().size());
        assertTrue(r.accuracyBefore() >= 0 && r.accuracyBefore() <= 1, "before: " + r.accuracyBefore());
        assertTrue(r.accuracyAfter() >= 0 && r.accuracyAfter() <= 1, "after: " + r.accuracyAfter());
        assertEquals(2, r.losses().size());
        r.losses().forEach(l -> assertTrue(Double.isFinite(l) && l > 0, "loss " + l));
        assertTrue(Files.size(zip) > 0);

        SavedModel saved = SavedModel.load(zip);
        assertEquals(r.classes(), saved.labels());
        assertArrayEquals(new int[] {3, 32, 32}, saved.inputShape());
        assertEquals(10, saved.network().getOutputLayer(0).getParam("b").length());
    }

    @Test
    void aKerasWeightFileFromTheCommandLineIsImported(@TempDir Path dir) throws Exception {
        // Keras-layout B0 weights (random, not ImageNet), the file the core's Keras import tests use.
        TransferLearningExample.Result r = TransferLearningExample.run("--fast", "--data",
                "../datasets/fashion-mnist-mini", "--epochs", "1", "--keras",
                "../efficientnet-core/src/test/resources/golden/efficientnet-b0-keras-random.h5",
                "--output", dir.resolve("keras.zip").toString());

        assertTrue(r.weights().startsWith("Keras weights from ") && r.weights().contains("131 layers"), r.weights());
        assertTrue(r.accuracyAfter() >= 0 && r.accuracyAfter() <= 1, "after: " + r.accuracyAfter());
        assertArrayEquals(new int[] {3, 32, 32}, SavedModel.load(dir.resolve("keras.zip")).inputShape());
    }
}
