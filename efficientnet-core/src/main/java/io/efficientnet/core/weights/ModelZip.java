package io.efficientnet.core.weights;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.dataset.api.preprocessor.Normalizer;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Writes {@link ModelSerializer} zips atomically: a temporary file in the target folder, then a rename. */
public final class ModelZip {

    private ModelZip() {
    }

    /**
     * Writes {@code model} (and {@code normalizer}, if not null) to {@code target}. An existing file at
     * {@code target} is replaced only once the new one is complete; an interrupted write leaves no partial zip.
     */
    public static void write(Model model, Path target, boolean saveUpdater, Normalizer<?> normalizer)
            throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
        try {
            ModelSerializer.writeModel(model, tmp.toFile(), saveUpdater);
            if (normalizer != null) {
                // writeModel(…, normalizer) fails in M2.1 ("stream is closed"); adding it afterwards works.
                ModelSerializer.addNormalizerToModel(tmp.toFile(), normalizer);
            }
            moveAtomically(tmp, target);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Renames {@code source} over {@code target} atomically where the file system allows. */
    public static void moveAtomically(Path source, Path target) throws IOException {
        try {
            Files.move(source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(source, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
