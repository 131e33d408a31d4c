package io.efficientnet.train.run;

import io.efficientnet.train.config.ConfigLoader;
import io.efficientnet.train.config.TrainConfig;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Configurations of tiny, fast training runs on {@link io.efficientnet.train.TestImages} trees. */
final class TinyRuns {

    private TinyRuns() {
    }

    /** The settings of a tiny run, before {@code extra} overrides. */
    static List<String> settings(Path data, Path output, String... extra) {
        List<String> s = new ArrayList<>(List.of(
                "model.width=0.25", "model.depth=0.25", "model.resolution=32", "model.drop_path=0.1",
                "model.batch_norm_momentum=0.8",
                "data.path=" + data, "data.batch_size=8", "data.workers=2", "data.prefetch=2",
                "data.crop_scale_min=0.5", "data.label_smoothing=0.1",
                "optimizer.name=adam", "optimizer.lr_per_256=0.4", "optimizer.epsilon=1.0e-8",
                "schedule.name=constant", "schedule.warmup_epochs=0",
                "ema.decay=0.9", "run.epochs=3", "run.seed=7", "run.output=" + output, "run.keep_checkpoints=2"));
        s.addAll(Arrays.asList(extra));
        return s;
    }

    static TrainConfig config(Path data, Path output, String... extra) throws IOException {
        return ConfigLoader.load(List.of(), settings(data, output, extra));
    }

    /**
     * Trains (or resumes) a tiny run on {@code data} into {@code output}, collecting every step's loss and the console
     * lines.
     */
    static Trainer.Outcome train(Path data, Path output, boolean resume, List<Double> losses, List<String> console,
            String... extra) throws IOException {
        return new Trainer(config(data, output, extra), console::add, false, new Trainer.Listener() {
            @Override
            public void iterationDone(long iteration, double loss) {
                losses.add(loss);
            }
        }, net -> { }).run(resume);
    }
}
