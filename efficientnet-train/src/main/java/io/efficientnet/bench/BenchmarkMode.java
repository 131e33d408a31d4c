package io.efficientnet.bench;

import java.util.Locale;

/** What a benchmark iteration does. */
public enum BenchmarkMode {
    /** {@code output(false, x)}: one inference forward pass (batch norm with moving statistics, no dropout). */
    INFERENCE,
    /** {@code fit(x, y)}: forward, backward and one SGD update. */
    TRAIN;

    /** Parses {@code inference} or {@code train} (any case). */
    public static BenchmarkMode parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("unknown mode '" + text + "'; allowed: inference, train");
        }
    }

    /** Lower-case name, as on the command line. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
