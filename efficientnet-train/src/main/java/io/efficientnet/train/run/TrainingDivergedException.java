package io.efficientnet.train.run;

/** The loss became NaN or infinite; nothing of the bad step was saved. */
public final class TrainingDivergedException extends IllegalStateException {

    /** An exception with the user-facing explanation. */
    public TrainingDivergedException(String message) {
        super(message);
    }
}
