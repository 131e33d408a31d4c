package io.efficientnet.cli;

import io.efficientnet.core.model.Pooling;

import java.util.Locale;

/** Parsing of enumerated option values with messages that list what is allowed. */
final class CliValues {

    private CliValues() {
    }

    static Pooling pooling(String text) {
        try {
            return Pooling.valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown pooling '" + text + "'; allowed: avg, max, none");
        }
    }
}
