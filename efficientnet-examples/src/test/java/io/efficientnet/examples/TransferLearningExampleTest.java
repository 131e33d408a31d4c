package io.efficientnet.examples;

import io.efficientnet.train.run.SavedModel;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class TransferLearningExampleTest {

    /**
     * The accuracy a classifier that ignores the images cannot reach: chance (one class in five) plus four binomial
     * standard deviations of {@code n} validation images. A property of the data, not of any machine's rounding.
     */
    static double aboveChance(int n) {
        double chance = 1.0 / TransferStudy.TARGET_CLASSES.size();
        return chance + 4 * Math.sqrt(chance * (1 - chance) / n);
    }

    @Test
    void fastModeTransfersTheShippedBackboneWellAboveChanceAndSavesAZipThatRestores(@TempDir Path dir)
            throws Exception {
        Path zip = dir.resolve("tl.zip");
        TransferLearningExample.Result r = TransferLearningExample.run("--fast", "--data", RepoPaths.data(),
                "--output", zip.toString());

        assertTrue(r.backbone().contains("Fashion-MNIST backbone"), r.backbone());
        assertEquals(TransferStudy.TARGET_CLASSES, r.classes());
        assertEquals(2, r.rows().size(), "from scratch and frozen, at 10 labels per class");
        var target = TransferStudy.target(Path.of(RepoPaths.data()));
        int n = target.validation().size();
        assertEquals(250, n, "every validation image of the five target classes");
        double frozen = r.accuracy(TransferStudy.Method.FROZEN, 10);
        assertTrue(frozen > aboveChance(n), "frozen backbone " + frozen + " against chance bound " + aboveChance(n));

        SavedModel saved = SavedModel.load(zip);
        assertEquals(TransferStudy.TARGET_CLASSES, saved.labels());
        assertArrayEquals(new int[] {3, 32, 32}, saved.inputShape());
        // every layer up to top_activation is the backbone's; only the new head (head_bn, predictions) trained
        ComputationGraph backbone = Backbone.fashion().classifier();
        int frozenLayers = 0;
        for (Layer l : saved.network().getLayers()) {
            String name = l.conf().getLayer().getLayerName();
            if (l.numParams() > 0 && !name.equals("predictions") && !name.equals("head_bn")) {
                assertEquals(backbone.getLayer(name).params(), l.params(), "frozen layer " + name + " unchanged");
                frozenLayers++;
            }
        }
        assertTrue(frozenLayers > 10, "frozen layers compared: " + frozenLayers);
        assertEquals(saved.network().getLayer("predictions").numParams()
                + saved.network().getLayer("head_bn").numParams(), TransferStudy.trainableParams(saved.network()),
                "only the head trains");
        Backbone fashion = Backbone.fashion();
        assertEquals(frozen, TransferStudy.evaluate(saved.network(), target, fashion,
                Examples.engine(Examples.Args.parse())).top1(), "the restored model classifies as the trained one");
    }

    @Test
    void aKerasWeightFileFromTheCommandLineIsTheBackbone(@TempDir Path dir) throws Exception {
        // Keras-layout B0 weights (random, not ImageNet), the file the core's Keras import tests use.
        TransferLearningExample.Result r = TransferLearningExample.run("--fast", "--data", RepoPaths.data(),
                "--steps", "4", "--keras",
                RepoPaths.root().resolve("efficientnet-core/src/test/resources/golden/efficientnet-b0-keras-random.h5")
                        .toString(),
                "--output", dir.resolve("keras.zip").toString());

        assertTrue(r.backbone().contains("Keras weights from ") && r.backbone().contains("131 layers"), r.backbone());
        SavedModel saved = SavedModel.load(dir.resolve("keras.zip"));
        assertArrayEquals(new int[] {3, 32, 32}, saved.inputShape());
        // B0's full width: the 1280 top_conv channels feed the new 5-class head
        assertEquals(1280L * 5, saved.network().getLayer("predictions").getParam("W").length());
        // and the head's batch norm of those 1280 features: scale, shift, running mean and variance
        assertEquals(1280L * 5 + 5 + 4 * 1280, TransferStudy.trainableParams(saved.network()),
                "only the head trains");
    }
}
