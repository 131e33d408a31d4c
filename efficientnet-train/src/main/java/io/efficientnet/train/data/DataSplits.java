package io.efficientnet.train.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The training and validation images of a data folder: either {@code ROOT/train/<class>} with {@code ROOT/val/<class>}
 * (the ImageNet layout; validation must have exactly the training classes), or one folder of class folders from which
 * a fraction is held out.
 *
 * @param classes    class names (from the training folders)
 * @param train      training images
 * @param validation validation images, or null when there are none
 */
public record DataSplits(List<String> classes, ImageFolder train, ImageFolder validation) {

    /**
     * Opens {@code root}.
     *
     * @param valSplit fraction held out when there is no {@code val/} folder (0: no validation)
     * @param seed     seed of the held-out choice
     * @throws IOException naming the folder and what is wrong (missing, no images, one class, class mismatch)
     */
    public static DataSplits open(Path root, double valSplit, long seed) throws IOException {
        Path trainDir = root.resolve("train");
        ImageFolder all = ImageFolder.scan(Files.isDirectory(trainDir) ? trainDir : root);
        if (all.classes().size() < 2) {
            throw new IOException(all.root() + ": found one class (" + all.classes().get(0)
                    + "); a classifier needs at least two class folders");
        }
        Path valDir = root.resolve("val");
        if (Files.isDirectory(trainDir) && Files.isDirectory(valDir)) {
            return new DataSplits(all.classes(), all, ImageFolder.scan(valDir, all.classes()));
        }
        if (valSplit > 0) {
            List<ImageFolder> parts = all.split(valSplit, seed);
            return new DataSplits(all.classes(), parts.get(0), parts.get(1));
        }
        return new DataSplits(all.classes(), all, null);
    }

    /**
     * Opens an evaluation folder for a model with {@code classes}: {@code DIR/val/<class>} if it exists, else
     * {@code DIR/<class>}.
     */
    public static ImageFolder evaluationFolder(Path dir, List<String> classes) throws IOException {
        Path val = dir.resolve("val");
        return ImageFolder.scan(Files.isDirectory(val) ? val : dir, classes);
    }
}
