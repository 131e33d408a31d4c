package io.efficientnet.train.data.augment;

import java.awt.image.BufferedImage;
import java.util.Random;

/**
 * Mirrors an image left-right with a given probability; it never flips vertically (unlike DataVec's
 * {@code FlipImageTransform}, which also picks vertical and both-axes flips).
 *
 * @param probability chance of flipping, in [0, 1]
 */
public record HorizontalFlip(double probability) {

    /** The usual flip probability. */
    public static final double DEFAULT_PROBABILITY = 0.5;

    /** Flips half of the images. */
    public static final HorizontalFlip DEFAULT = new HorizontalFlip(DEFAULT_PROBABILITY);

    public HorizontalFlip {
        requireProbability(probability);
    }

    /**
     * Returns the mirror image with probability {@link #probability()}, otherwise {@code src} itself. Always draws
     * exactly one value from {@code rng}.
     */
    public BufferedImage apply(BufferedImage src, Random rng) {
        return rng.nextDouble() < probability ? mirror(src) : src;
    }

    /** A left-right mirrored copy in {@code TYPE_INT_RGB}: column {@code x} becomes column {@code w - 1 - x}. */
    public static BufferedImage mirror(BufferedImage src) {
        int w = src.getWidth();
        int h = src.getHeight();
        int[] px = Pixels.read(src);
        for (int row = 0; row < h; row++) {
            for (int l = row * w, r = l + w - 1; l < r; l++, r--) {
                int t = px[l];
                px[l] = px[r];
                px[r] = t;
            }
        }
        return Pixels.write(w, h, px);
    }

    static void requireProbability(double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("flip probability must be in [0, 1], got " + p);
        }
    }
}
