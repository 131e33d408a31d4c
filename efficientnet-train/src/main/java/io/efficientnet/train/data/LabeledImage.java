package io.efficientnet.train.data;

import java.nio.file.Path;

/** An image file and the index of its class. */
public record LabeledImage(Path file, int label) {
}
