package io.efficientnet.train.data;

import java.awt.image.BufferedImage;
import java.util.Random;

/** Turns a decoded RGB image into a network-sized one; randomness (if any) comes from {@code rng}. */
@FunctionalInterface
public interface SampleTransform {

    /** Applies the transform; the result must have the network's input size. */
    BufferedImage apply(BufferedImage image, Random rng);

    /** The evaluation transform (resize, centre crop) as a sample transform. */
    static SampleTransform of(EvalTransform eval) {
        return (image, rng) -> eval.apply(image);
    }
}
