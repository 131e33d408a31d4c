package io.efficientnet.examples;

import io.efficientnet.train.data.DataSplits;
import io.efficientnet.train.run.SavedModel;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TransferLearningExampleTest {

    @Test
    void fastModeTrainsOnlyTheNewHeadAndSavesAZipThatRestores(@TempDir Path dir) throws Exception {
        Path zip = dir.resolve("tl.zip");
        TransferLearningExample.Result r = TransferLearningExample.run("--fast", "--data", RepoPaths.data(),
                "--output", zip.toString());

        assertTrue(r.weights().startsWith("random weights"), r.weights());
        assertEquals(10, r.classes().size());
        assertEquals(2, r.losses().size());
        r.losses().forEach(l -> assertTrue(Double.isFinite(l) && l > 0, "loss " + l));
        assertTrue(Files.size(zip) > 0);

        SavedModel saved = SavedModel.load(zip);
        assertEquals(r.classes(), saved.labels());
        assertArrayEquals(new int[] {3, 32, 32}, saved.inputShape());
        assertEquals(10, saved.network().getOutputLayer(0).getParam("b").length());

        // The fast base network is seeded, so it can be built again: every layer up to top_activation still has its
        // weights and batch-norm statistics, while the new head has left its (seeded) initial values.
        ComputationGraph base = Examples.baseModel(Examples.Args.parse("--fast"), true).network();
        ComputationGraph untrained = TransferLearningExample.withNewHead(
                Examples.baseModel(Examples.Args.parse("--fast"), true).network(), 10, 1e-2);
        int frozen = 0;
        for (Layer l : saved.network().getLayers()) {
            String name = l.conf().getLayer().getLayerName();
            if (l.numParams() == 0) {
                continue;
            }
            if (name.equals("predictions")) {
                assertNotEquals(untrained.getLayer(name).params(), l.params(), "the head was trained");
            } else {
                assertEquals(base.getLayer(name).params(), l.params(), "frozen layer " + name + " unchanged");
                frozen++;
            }
        }
        assertTrue(frozen > 0, "frozen layers compared");
        assertEquals(untrained.getLayer("predictions").numParams(),
                TransferLearningExample.trainableParams(saved.network()), "only the head trains");

        // The restored network classifies the validation images as the trained one did.
        DataSplits splits = Examples.open(Path.of(RepoPaths.data()), Examples.Args.parse("--fast"), 30, 10);
        assertEquals(r.accuracyAfter(), TransferLearningExample.evaluate(saved.network(), splits, 32, 16).top1(),
                "accuracy of the restored model");
    }

    @Test
    void aKerasWeightFileFromTheCommandLineIsImported(@TempDir Path dir) throws Exception {
        // Keras-layout B0 weights (random, not ImageNet), the file the core's Keras import tests use.
        TransferLearningExample.Result r = TransferLearningExample.run("--fast", "--data", RepoPaths.data(),
                "--epochs", "1", "--keras",
                RepoPaths.root().resolve("efficientnet-core/src/test/resources/golden/efficientnet-b0-keras-random.h5")
                        .toString(),
                "--output", dir.resolve("keras.zip").toString());

        assertTrue(r.weights().startsWith("Keras weights from ") && r.weights().contains("131 layers"), r.weights());
        SavedModel saved = SavedModel.load(dir.resolve("keras.zip"));
        assertArrayEquals(new int[] {3, 32, 32}, saved.inputShape());
        // B0's full width: the 1280 top_conv channels feed the new 10-class head
        assertEquals(1280L * 10, saved.network().getLayer("predictions").getParam("W").length());
        assertEquals(1280L * 10 + 10, TransferLearningExample.trainableParams(saved.network()), "only the head trains");
    }
}
