package io.efficientnet.train.config;

import java.util.Set;

/** Range and choice checks whose messages name the configuration key. */
final class ConfigChecks {

    private ConfigChecks() {
    }

    /** Requires {@code lo <= value < hi} ({@code value <= hi} when {@code hiInclusive}). */
    static void range(String key, double value, double lo, double hi, boolean hiInclusive) {
        boolean ok = value >= lo && (hiInclusive ? value <= hi : value < hi);
        if (!ok) {
            throw new IllegalArgumentException(key + " must be in [" + lo + ", " + hi + (hiInclusive ? "]" : ")")
                    + ", got " + value);
        }
    }

    /** Requires {@code value >= min}. */
    static void atLeast(String key, long value, long min) {
        if (value < min) {
            throw new IllegalArgumentException(key + " must be >= " + min + ", got " + value);
        }
    }

    /** Requires {@code value > 0} and finite. */
    static void positive(String key, double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new IllegalArgumentException(key + " must be > 0, got " + value);
        }
    }

    /** Requires {@code value} to be one of {@code allowed}. */
    static void oneOf(String key, String value, Set<String> allowed) {
        if (!allowed.contains(value)) {
            throw new IllegalArgumentException(key + " must be one of " + allowed + ", got '" + value + "'");
        }
    }
}
