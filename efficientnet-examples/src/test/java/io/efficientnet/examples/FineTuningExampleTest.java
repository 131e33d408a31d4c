package io.efficientnet.examples;

import io.efficientnet.train.run.SavedModel;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.layers.FrozenLayer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FineTuningExampleTest {

    @Test
    void fastModeTrainsBlock6OnwardsAndLeavesTheLayersBelowAsTheyWere(@TempDir Path dir) throws Exception {
        Path first = dir.resolve("tl.zip");
        Path second = dir.resolve("ft.zip");
        TransferLearningExample.Result tl = TransferLearningExample.run("--fast", "--data", RepoPaths.data(),
                "--epochs", "1", "--output", first.toString());
        FineTuningExample.Result r = FineTuningExample.run("--fast", "--data", RepoPaths.data(),
                "--model", first.toString(), "--output", second.toString());

        assertEquals(tl.accuracyAfter(), r.accuracyBefore(), "the loaded model is the saved one");
        assertEquals("block6", r.unfrozenFrom());
        assertEquals(2, r.losses().size());
        r.losses().forEach(l -> assertTrue(Double.isFinite(l) && l > 0, "loss " + l));

        SavedModel before = SavedModel.load(first);
        SavedModel after = SavedModel.load(second);
        assertEquals(tl.classes(), after.labels());
        long trainable = 0;
        int frozen = 0;
        int trained = 0;
        for (Layer l : after.network().getLayers()) {
            if (l.numParams() == 0) {
                continue;
            }
            String name = l.conf().getLayer().getLayerName();
            boolean top = name.startsWith("block6") || name.startsWith("block7") || name.startsWith("top_")
                    || name.equals("predictions");
            assertEquals(!top, l instanceof FrozenLayer, name + " frozen below block6 only");
            if (top) {
                // weights, and batch-norm statistics, move in every trained layer
                assertNotEquals(before.network().getLayer(name).params(), l.params(), name + " was trained");
                trainable += l.numParams();
                trained++;
            } else {
                assertEquals(before.network().getLayer(name).params(), l.params(), name + " kept its parameters");
                frozen++;
            }
        }
        assertTrue(frozen > 0 && trained > 1, frozen + " frozen and " + trained + " trained layers");
        assertEquals(trainable, r.trainableParams(), "trainable parameters reported");
        assertTrue(trainable < after.network().numParams(), trainable + " of " + after.network().numParams());
    }
}
