package io.efficientnet.examples;

import io.efficientnet.train.run.SavedModel;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class FineTuningExampleTest {

    @Test
    void fastModeTrainsBlock6OnwardsAndLeavesTheLayersBelowAsTheBackboneHasThem(@TempDir Path dir) throws Exception {
        Path zip = dir.resolve("ft.zip");
        FineTuningExample.Result r = FineTuningExample.run("--fast", "--data", RepoPaths.data(), "--steps", "20",
                "--output", zip.toString());

        assertEquals("block4", r.unfrozenFrom());
        assertEquals(3, r.rows().size(), "from scratch, frozen and fine-tuned at 10 labels per class");
        assertTrue(r.trainableParams() > 0 && r.trainableParams() < r.totalParams());
        double bound = TransferLearningExampleTest.aboveChance(250);
        assertTrue(r.accuracy(TransferStudy.Method.FINE_TUNED, 10) > bound,
                "fine-tuned " + r.accuracy(TransferStudy.Method.FINE_TUNED, 10) + " against " + bound);

        SavedModel saved = SavedModel.load(zip);
        assertEquals(TransferStudy.TARGET_CLASSES, saved.labels());
        ComputationGraph backbone = Backbone.fashion().classifier();
        int frozen = 0;
        int trained = 0;
        long trainable = 0;
        boolean above = false;
        for (int i : saved.network().topologicalSortOrder()) {
            String name = saved.network().getVertices()[i].getVertexName();
            above |= name.startsWith("block4");
            Layer l = saved.network().getLayer(name);
            if (l == null || l.numParams() == 0 || name.equals("predictions")) {
                continue;
            }
            if (above) {
                trainable += l.numParams();
                if (!backbone.getLayer(name).params().equals(l.params())) {
                    trained++;
                }
            } else {
                assertEquals(backbone.getLayer(name).params(), l.params(), "layer " + name + " below block4");
                frozen++;
            }
        }
        assertTrue(frozen > 10, "frozen layers compared: " + frozen);
        assertTrue(trained > 0, "layers from block4 on changed");
        assertEquals(r.trainableParams(), trainable + saved.network().getLayer("predictions").numParams());
    }
}
