package io.efficientnet.train.data;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/** Images that could not be read: each is reported once (naming the file and why) and counted. */
public final class SkippedImages {

    private final Map<Path, String> skipped = new ConcurrentHashMap<>();
    private final Consumer<String> warnings;

    /** Reports each newly skipped file to {@code warnings}. */
    public SkippedImages(Consumer<String> warnings) {
        this.warnings = warnings;
    }

    /** Records that {@code file} was skipped; warns the first time. */
    public void skip(Path file, String reason) {
        if (skipped.putIfAbsent(file, reason) == null) {
            warnings.accept("warning: skipping unreadable image " + reason);
        }
    }

    /** Whether {@code file} is known to be unreadable. */
    public boolean isSkipped(Path file) {
        return skipped.containsKey(file);
    }

    /** Number of distinct files skipped. */
    public int count() {
        return skipped.size();
    }
}
