package io.efficientnet.train.run;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;

/**
 * The console progress bar of one epoch (batches done, ETA, and a message with loss, learning rate and images/s) on
 * standard error. On a terminal it redraws in place every second; without one (logs, CI) it prints a line every
 * 10 seconds. Disabled, it does nothing.
 */
public final class EpochProgress implements AutoCloseable {

    private final ProgressBar bar;

    private EpochProgress(ProgressBar bar) {
        this.bar = bar;
    }

    /** A bar for {@code total} batches, {@code done} of them already done (a resumed epoch). */
    public static EpochProgress open(String task, long total, long done, boolean enabled) {
        if (!enabled) {
            return new EpochProgress(null);
        }
        PrintStream err = System.err;
        boolean terminal = System.console() != null;
        ProgressBarBuilder b = new ProgressBarBuilder().setTaskName(task).setInitialMax(total)
                .setStyle(terminal ? ProgressBarStyle.COLORFUL_UNICODE_BLOCK : ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(terminal ? 1000 : 10_000)
                .setConsumer(terminal ? new ConsoleProgressBarConsumer(err)
                        : new DelegatingProgressBarConsumer(err::println, 120))
                .setUnit(" batches", 1).startsFrom(done, java.time.Duration.ZERO);
        return new EpochProgress(b.build());
    }

    /** Moves to {@code done} batches with {@code message} (loss, lr, images/s). */
    public void update(long done, String message) {
        if (bar != null) {
            bar.stepTo(done);
            bar.setExtraMessage(message);
        }
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
