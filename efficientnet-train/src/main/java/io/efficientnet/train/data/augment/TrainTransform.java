package io.efficientnet.train.data.augment;

import java.awt.image.BufferedImage;
import java.util.Objects;
import java.util.Random;

/**
 * The training preprocessing: random-resized crop to {@code width × height}, then a random horizontal flip, then
 * RandAugment if configured. The output is {@code TYPE_INT_RGB} in RGB order, ready for
 * {@link io.efficientnet.train.data.ImageDecoder#toChw}.
 *
 * @param height          output height
 * @param width           output width
 * @param crop            the random crop
 * @param flipProbability chance of a left-right flip, in [0, 1]
 * @param randAugment     RandAugment settings, or {@code null} for none
 */
public record TrainTransform(int height, int width, RandomResizedCrop crop, double flipProbability,
        RandAugment randAugment) {

    public TrainTransform {
        if (height < 1 || width < 1) {
            throw new IllegalArgumentException("output size must be positive, got " + height + "x" + width);
        }
        Objects.requireNonNull(crop, "crop");
        HorizontalFlip.requireProbability(flipProbability);
    }

    /** Square output, default crop, flip probability 0.5, no RandAugment. */
    public static TrainTransform standard(int resolution) {
        return new TrainTransform(resolution, resolution, RandomResizedCrop.DEFAULT,
                HorizontalFlip.DEFAULT_PROBABILITY, null);
    }

    /** The same transform with RandAugment set to {@code randAugment} ({@code null} turns it off). */
    public TrainTransform withRandAugment(RandAugment randAugment) {
        return new TrainTransform(height, width, crop, flipProbability, randAugment);
    }

    /** Applies crop, flip and RandAugment, drawing all randomness from {@code rng}. */
    public BufferedImage apply(BufferedImage src, Random rng) {
        BufferedImage img = crop.apply(src, width, height, rng);
        img = new HorizontalFlip(flipProbability).apply(img, rng);
        return randAugment == null ? img : randAugment.apply(img, rng);
    }
}
