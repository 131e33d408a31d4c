package io.efficientnet.train.data.augment;

import io.efficientnet.train.data.ImageDecoder;

import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Random;

/**
 * RandAugment (Cubuk et al., 2020): applies {@code numLayers} operations, each drawn uniformly (with repetition)
 * from {@link RandAugmentOp}, all at the same magnitude on a 0..{@value #MAX_MAGNITUDE} scale (torchvision's 31
 * magnitude bins).
 *
 * @param numLayers operations per image (N), at least 0
 * @param magnitude strength (M), in 0..{@value #MAX_MAGNITUDE}
 */
public record RandAugment(int numLayers, int magnitude) {

    /** Largest magnitude; magnitude M uses fraction M / MAX_MAGNITUDE of each operation's range. */
    public static final int MAX_MAGNITUDE = 30;

    /** torchvision's defaults: N = 2, M = 9. */
    public static final RandAugment DEFAULT = new RandAugment(2, 9);

    private static final List<RandAugmentOp> OPS = List.of(RandAugmentOp.values());

    public RandAugment {
        if (numLayers < 0) {
            throw new IllegalArgumentException("numLayers must not be negative, got " + numLayers);
        }
        if (magnitude < 0 || magnitude > MAX_MAGNITUDE) {
            throw new IllegalArgumentException("magnitude must be in 0.." + MAX_MAGNITUDE + ", got " + magnitude);
        }
    }

    /** The operations drawn from, in a fixed order. */
    public static List<RandAugmentOp> ops() {
        return OPS;
    }

    /** {@code magnitude / MAX_MAGNITUDE}. */
    public double magnitudeFraction() {
        return (double) magnitude / MAX_MAGNITUDE;
    }

    /** Applies {@code numLayers} random operations; the result is {@code TYPE_INT_RGB} of the same size. */
    public BufferedImage apply(BufferedImage src, Random rng) {
        BufferedImage img = ImageDecoder.toRgb(src);
        for (int i = 0; i < numLayers; i++) {
            img = OPS.get(rng.nextInt(OPS.size())).apply(img, magnitudeFraction(), rng);
        }
        return img;
    }
}
