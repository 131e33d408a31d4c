package io.efficientnet.train.run;

import io.efficientnet.train.TestImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** A training process killed with SIGKILL while it checkpoints every iteration leaves only complete checkpoints. */
class KillTest {

    @Test
    void sigkillMidRunLeavesRestorableCheckpointsAndTheRunResumes(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("shapes");
        TestImages.writeTree(data, 8, 2, 17);
        Path out = tmp.resolve("run");
        Process p = TrainProcess.start(data, out, tmp.resolve("log.txt"), null, "run.epochs=50",
                "run.checkpoint_every=1", "run.keep_checkpoints=3");
        CheckpointStore store = new CheckpointStore(out.resolve("checkpoints"), 3);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        try {
            while (store.list().size() < 3 || lastIteration(store) < 7) {
                assertTrue(p.isAlive(), "trainer exited early: " + Files.readString(tmp.resolve("log.txt")));
                assertTrue(System.nanoTime() < deadline, "no checkpoints within 2 minutes");
                Thread.sleep(20);
            }
            assertTrue(p.isAlive(), "trainer exited before the kill: " + Files.readString(tmp.resolve("log.txt")));
        } finally {
            p.destroyForcibly(); // SIGKILL on Linux
            p.waitFor(30, TimeUnit.SECONDS);
        }
        // Alive just before the kill and gone within the wait, with a failure status (128 + 9 on Linux, another
        // value elsewhere): the kill ended it, not a normal exit.
        assertFalse(p.isAlive(), "still running 30 s after the kill");
        assertNotEquals(0, p.exitValue(), "killed, not finished");
        List<Path> ckpts = store.list();
        assertFalse(ckpts.isEmpty());
        for (Path c : ckpts) {
            Checkpoint restored = CheckpointStore.restore(c); // every listed checkpoint is complete
            assertEquals(Long.parseLong(c.getFileName().toString().replaceAll("\\D", "")),
                    restored.state().iteration());
        }
        // the dead process's run.lock does not block: the operating system released its lock
        List<String> console = new ArrayList<>();
        Trainer.Outcome o = new Trainer(TinyRuns.config(data, out, "run.checkpoint_every=0", "run.epochs=4"),
                console::add, false, new Trainer.Listener() { }, n -> { }).run(true);
        assertTrue(o.finished(), console.toString());
        assertTrue(console.get(0).startsWith("resuming from " + ckpts.get(ckpts.size() - 1)), console.get(0));
        try (var files = Files.list(out.resolve("checkpoints"))) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")),
                    "leftover temporary files are removed on resume");
        }
    }

    private static long lastIteration(CheckpointStore store) throws Exception {
        List<Path> l = store.list();
        return l.isEmpty() ? 0 : Long.parseLong(l.get(l.size() - 1).getFileName().toString().replaceAll("\\D", ""));
    }
}
