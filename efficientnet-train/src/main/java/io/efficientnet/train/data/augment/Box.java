package io.efficientnet.train.data.augment;

/**
 * A rectangle of whole pixels: top-left corner {@code (x, y)} and size {@code w × h}.
 *
 * @param x left column
 * @param y top row
 * @param w width, at least 1
 * @param h height, at least 1
 */
public record Box(int x, int y, int w, int h) {

    public Box {
        if (x < 0 || y < 0) {
            throw new IllegalArgumentException("box corner must not be negative, got (" + x + ", " + y + ")");
        }
        if (w < 1 || h < 1) {
            throw new IllegalArgumentException("box size must be positive, got " + w + "x" + h);
        }
    }
}
