package io.efficientnet.core.model;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The published EfficientNet variants B0–B7 with the paper's (width, depth, resolution, dropout) table. */
public enum Variant {
    B0(1.0, 1.0, 224, 0.2),
    B1(1.0, 1.1, 240, 0.2),
    B2(1.1, 1.2, 260, 0.3),
    B3(1.2, 1.4, 300, 0.3),
    B4(1.4, 1.8, 380, 0.4),
    B5(1.6, 2.2, 456, 0.4),
    B6(1.8, 2.6, 528, 0.5),
    B7(2.0, 3.1, 600, 0.5);

    private final Scaling scaling;

    Variant(double width, double depth, int resolution, double dropout) {
        this.scaling = new Scaling(width, depth, resolution, dropout);
    }

    /** The variant's published scaling coefficients. */
    public Scaling scaling() {
        return scaling;
    }

    /** Lower-case name as used in file names and on the command line, e.g. {@code b0}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses {@code b0}…{@code b7} (any case, an optional {@code efficientnet-} or {@code efficientnet} prefix).
     *
     * @throws IllegalArgumentException naming the allowed values
     */
    public static Variant parse(String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT)
                .replace("efficientnet-", "").replace("efficientnet", "");
        for (Variant v : values()) {
            if (v.id().equals(t)) {
                return v;
            }
        }
        throw new IllegalArgumentException("unknown EfficientNet variant '" + text + "'; allowed: "
                + Arrays.stream(values()).map(Variant::id).collect(Collectors.joining(", ")));
    }
}
