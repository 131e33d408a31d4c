package io.efficientnet.train.run;

import io.efficientnet.train.TestImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A write that the operating system refuses mid-run (here the file-size limit {@code ulimit -f}, which fails writes
 * as a full disk does, without root) ends the run with one line naming the file and the cause, exit status 2, no
 * temporary file left and every file written before intact.
 */
class WriteFailureTest {

    @Test
    void aRefusedCheckpointWriteIsOneLineAndLeavesEarlierFilesIntact(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("shapes");
        TestImages.writeTree(data, 8, 2, 17);
        // sizes of this run's files: the model zip fits under the limit, the checkpoint (with optimizer state and
        // weight average) does not
        Path probe = tmp.resolve("probe");
        TinyRuns.train(data, probe, false, new ArrayList<>(), new ArrayList<>(), "run.epochs=1");
        long model = Files.size(probe.resolve("model-best.zip"));
        long checkpoint;
        try (Stream<Path> s = Files.list(probe.resolve("checkpoints"))) {
            checkpoint = Files.size(s.filter(f -> f.toString().endsWith(".zip")).findFirst().orElseThrow());
        }
        assertTrue(checkpoint > 2 * model, "checkpoint " + checkpoint + " bytes, model " + model);
        long blocks = (model + checkpoint) / 2 / 512; // /bin/sh's ulimit -f counts 512-byte blocks

        Path out = tmp.resolve("run");
        Path log = tmp.resolve("log.txt");
        Process p = TrainProcess.start(data, out, log, "ulimit -f " + blocks, "run.epochs=3");
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "still running after 3 minutes");
        String text = Files.readString(log);
        assertEquals(2, p.exitValue(), text);
        List<String> errors = text.lines().filter(l -> l.startsWith("error: ")).toList();
        assertEquals(1, errors.size(), text);
        assertTrue(errors.get(0).matches("error: cannot write .*checkpoints/ckpt-\\d+\\.zip: File too large; any "
                + "earlier ckpt-\\d+\\.zip is unchanged"), errors.get(0));
        assertFalse(text.contains("\tat "), "no stack trace: " + text);
        try (Stream<Path> all = Files.walk(out)) {
            List<Path> temporary = all.filter(f -> f.getFileName().toString().endsWith(".tmp")).toList();
            assertEquals(List.of(), temporary, "no temporary file left");
        }
        assertNotNull(SavedModel.load(out.resolve("model-best.zip")).network(), "the model written before is intact");
        assertEquals(1, MetricsLog.parse(Files.readString(out.resolve("metrics.csv"))).size());
    }
}
