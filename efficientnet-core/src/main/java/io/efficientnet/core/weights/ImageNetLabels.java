package io.efficientnet.core.weights;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** The 1000 ImageNet-1k class names in the standard class-index order (index 0 = tench … 999 = toilet tissue). */
public final class ImageNetLabels {

    private static volatile List<String> labels;

    private ImageNetLabels() {
    }

    /** All 1000 names, index = class id. */
    public static List<String> all() {
        List<String> l = labels;
        if (l == null) {
            try (InputStream in = ImageNetLabels.class.getResourceAsStream("imagenet_classes.txt")) {
                if (in == null) {
                    throw new IllegalStateException("resource imagenet_classes.txt is missing from the jar");
                }
                l = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines()
                        .filter(s -> !s.isBlank()).toList();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            if (l.size() != 1000) {
                throw new IllegalStateException("imagenet_classes.txt has " + l.size() + " names, expected 1000");
            }
            labels = l;
        }
        return l;
    }

    /** The name of class {@code index}. */
    public static String get(int index) {
        return all().get(index);
    }
}
