package io.efficientnet.examples;

import io.efficientnet.train.run.SavedModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FineTuningExampleTest {

    @Test
    void fastModeUnfreezesTheTopBlocksAndSavesAZip(@TempDir Path dir) throws Exception {
        Path first = dir.resolve("tl.zip");
        Path second = dir.resolve("ft.zip");
        TransferLearningExample.Result tl = TransferLearningExample.run("--fast", "--data",
                "../datasets/fashion-mnist-mini", "--epochs", "1", "--output", first.toString());
        // in 2 shards (ShardedTraining, frozen layers and all); TransferLearningExampleTest covers plain fit
        FineTuningExample.Result r = FineTuningExample.run("--fast", "--data", "../datasets/fashion-mnist-mini",
                "--model", first.toString(), "--shards", "2", "--output", second.toString());

        assertEquals(tl.accuracyAfter(), r.accuracyBefore(), 1e-9, "the loaded model is the saved one");
        assertTrue(r.accuracyAfter() >= 0 && r.accuracyAfter() <= 1, "after: " + r.accuracyAfter());
        assertEquals(2, r.losses().size());
        r.losses().forEach(l -> assertTrue(Double.isFinite(l) && l > 0, "loss " + l));
        SavedModel saved = SavedModel.load(second);
        long total = saved.network().numParams();
        // More than the 10-class head trains now, but not the whole network.
        assertTrue(r.trainableParams() > 6_410 && r.trainableParams() < total, r.trainableParams() + " of " + total);
        assertEquals(tl.classes(), saved.labels());
    }
}
