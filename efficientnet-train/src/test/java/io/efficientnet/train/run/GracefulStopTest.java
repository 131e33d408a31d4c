package io.efficientnet.train.run;

import io.efficientnet.train.TestImages;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A run folder belongs to one process, and SIGTERM (a scheduler's preemption) stops training with a checkpoint at the
 * current step, exit status 143, and a resume that repeats the uninterrupted run.
 */
class GracefulStopTest {

    @Test
    void aSecondRunOnTheFolderIsRefusedAndSigtermCheckpointsTheStepAndResumesExactly(@TempDir Path tmp)
            throws Exception {
        Path data = tmp.resolve("shapes");
        TestImages.writeTree(data, 8, 2, 17);
        Path out = tmp.resolve("run");
        Path log = tmp.resolve("log.txt");
        String[] run = {"run.epochs=40", "run.checkpoint_every=0"};
        Process p = TrainProcess.start(data, out, log, null, run);
        try {
            TrainProcess.awaitLog(p, log, "epoch 1/40", 120); // mid-run: the first epoch is done
            long pid = p.pid();
            IllegalStateException busy = assertThrows(IllegalStateException.class,
                    () -> new Trainer(TinyRuns.config(data, out, run), s -> { }, false, new Trainer.Listener() { },
                            n -> { }).run(true));
            assertTrue(busy.getMessage().contains("is in use by another training process (pid " + pid + " on "),
                    busy.getMessage());
            assertTrue(busy.getMessage().contains(RunLock.FILE), busy.getMessage());

            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "still running 2 minutes after SIGTERM");
        } finally {
            p.destroyForcibly();
        }
        String text = Files.readString(log);
        assertEquals(143, p.exitValue(), text);
        assertTrue(text.contains("stopped (SIGTERM) after "), text);
        assertTrue(text.contains("continue with: bin/efficientnet train --resume " + out), text);
        assertFalse(text.contains("\tat "), "no stack trace: " + text);
        long stoppedAt = Long.parseLong(text.replaceAll("(?s).*stopped \\(SIGTERM\\) after (\\d+) iterations.*", "$1"));
        List<Path> checkpoints = new CheckpointStore(out.resolve("checkpoints"), 2).list();
        Path newest = checkpoints.get(checkpoints.size() - 1);
        assertEquals(stoppedAt, CheckpointStore.restore(newest).state().iteration(),
                "the newest checkpoint is the step the signal interrupted: " + newest);
        long perEpoch = Long.parseLong(text.replaceAll("(?s).*, (\\d+) steps per epoch.*", "$1"));
        assertTrue(stoppedAt >= perEpoch, "after the first epoch's " + perEpoch + " steps: " + stoppedAt);

        // resumed to the end (here, in this JVM) it is the run that was never interrupted
        String[] shorter = {"run.epochs=" + (stoppedAt / perEpoch + 2), "run.checkpoint_every=0"};
        List<Double> resumedLosses = new ArrayList<>();
        TinyRuns.train(data, out, true, resumedLosses, new ArrayList<>(), shorter);
        List<Double> wholeLosses = new ArrayList<>();
        Path whole = tmp.resolve("whole");
        TinyRuns.train(data, whole, false, wholeLosses, new ArrayList<>(), shorter);
        assertEquals(wholeLosses.subList((int) stoppedAt, wholeLosses.size()), resumedLosses,
                "the resumed steps are the uninterrupted run's");
        ComputationGraph a = SavedModel.load(out.resolve("model-final.zip")).network();
        ComputationGraph b = SavedModel.load(whole.resolve("model-final.zip")).network();
        assertEquals(b.params(), a.params(), "the same final weights");
    }
}
