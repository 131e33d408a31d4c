package io.efficientnet.train.run;

import java.nio.file.Path;
import java.util.Locale;

/** The loss became NaN or infinite; nothing of the bad step was saved. */
public final class TrainingDivergedException extends IllegalStateException {

    /** An exception with the user-facing explanation. */
    public TrainingDivergedException(String message) {
        super(message);
    }

    /**
     * The explanation for a run that diverged at {@code iteration} of {@code epoch} (0-based), with what to do next.
     *
     * @param lastCheckpoint the newest checkpoint written, or null
     * @param output         the run folder
     */
    static TrainingDivergedException at(String what, int epoch, long iteration, double learningRate,
            Path lastCheckpoint, Path output) {
        return new TrainingDivergedException(String.format(Locale.ROOT, "training diverged: %s at epoch %d, "
                        + "iteration %d (learning rate %.3g); this step was not saved. %s Lower optimizer.lr_per_256 "
                        + "or check the data, then resume with --resume %s.", what, epoch + 1, iteration,
                learningRate, lastCheckpoint != null ? "The last good checkpoint is " + lastCheckpoint + "."
                        : "No checkpoint had been written yet.", output));
    }
}
