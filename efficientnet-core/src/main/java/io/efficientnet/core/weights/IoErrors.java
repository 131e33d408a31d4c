package io.efficientnet.core.weights;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;

/** One-line descriptions of why a file operation failed. */
public final class IoErrors {

    private IoErrors() {
    }

    /**
     * The cause of {@code e} without the path (the caller names it): the file system's reason ("No space left on
     * device", "Read-only file system", "permission denied", …) or the message.
     */
    public static String reason(IOException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or folder";
        }
        if (e instanceof FileSystemException fs && fs.getReason() != null) {
            return fs.getReason();
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
