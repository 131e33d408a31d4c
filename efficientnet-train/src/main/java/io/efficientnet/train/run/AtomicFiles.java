package io.efficientnet.train.run;

import io.efficientnet.core.weights.IoErrors;
import io.efficientnet.core.weights.ModelZip;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Whole-file writes that never leave a partial file: a temporary file beside the target, then a rename. */
public final class AtomicFiles {

    private AtomicFiles() {
    }

    /** Writes {@code bytes} to {@code target} atomically. */
    public static void write(Path target, byte[] bytes) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
            Files.write(tmp, bytes);
            ModelZip.moveAtomically(tmp, target);
        } catch (IOException e) {
            throw new IOException("cannot write " + target + ": " + IoErrors.reason(e) + "; any earlier "
                    + target.getFileName() + " is unchanged", e);
        } finally {
            if (tmp != null) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** Writes {@code text} (UTF-8) to {@code target} atomically. */
    public static void writeString(Path target, String text) throws IOException {
        write(target, text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** Deletes temporary files that an interrupted write left in {@code dir} ({@code .name.tmp}). */
    public static void removeLeftovers(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                String n = p.getFileName().toString();
                if (n.startsWith(".") && n.endsWith(".tmp")) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
