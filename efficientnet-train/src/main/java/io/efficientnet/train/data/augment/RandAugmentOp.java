package io.efficientnet.train.data.augment;

import java.awt.image.BufferedImage;
import java.util.Random;

/**
 * The RandAugment operations with torchvision's magnitude ranges. A magnitude fraction in [0, 1] scales the
 * operation's range linearly (fraction = M / 30 for RandAugment magnitude M); signed operations negate the strength
 * with probability 1/2. Magnitude 0 leaves the image unchanged for every operation except {@link #AUTO_CONTRAST}
 * and {@link #EQUALIZE}, which have no strength.
 */
public enum RandAugmentOp {

    /** Returns the image as it is. */
    IDENTITY(0, false) {
        @Override
        BufferedImage transform(BufferedImage img, double level) {
            return img;
        }
    },
    /** Horizontal shear about the centre, factor up to ±0.3. */
    SHEAR_X(0.3, true) {
        @Override
        BufferedImage transform(BufferedImage img, double level) {
            return GeometricOps.shearX(img, level);
        }
    },
    /** Vertical shear about the centre, factor up to ±0.3. */
    SHEAR_Y(0.3, true) {
        @Override
        BufferedImage transform(BufferedImage img, double level) {
            return GeometricOps.shearY(img, level);
        }
    },
    /** Horizontal shift by up to ±150/331 of the width, in whole pixels. */
    TRANSLATE_X(150.0 / 331.0, true) {
        @Override
        BufferedImage transform(BufferedImage img, double level) {
            return GeometricOps.translate(img, (int) (level * img.getWidth()), 0);
        }
    },
    /** Vertical shift by up to ±150/331 of the height, in whole pixels. */
    TRANSLATE_Y(150.0 / 331.0, true) {
        @Override
        BufferedImage transform(BufferedImage img, double level) {
            return GeometricOps.translate(img, 0, (int) (level * img.getHeight()));
        }
    },
    /** Rotation about the centre by up to ±30 degrees. */
    ROTATE(30, true) {
        @Override
        BufferedImage transform(BufferedImage img, double level) {
            return GeometricOps.rotate(img, level);
        }
    },
    /** Brightness factor 1 ± 0.9. */
    BRIGHTNESS(0.9, true) {
        @Override
        BufferedImage transform(BufferedImage img, double level) {
            return Enhance.brightness(img, 1 + level);
        }
    },
    /** Saturation factor 1 ± 0.9. */
    COLOR(0.9, true) {
        @Override
        BufferedImage transform(BufferedImage img, double level) {
            return Enhance.color(img, 1 + level);
        }
    },
    /** Contrast factor 1 ± 0.9. */
    CONTRAST(0.9, true) {
        @Override
        BufferedImage transform(BufferedImage img, double level) {
            return Enhance.contrast(img, 1 + level);
        }
    },
    /** Sharpness factor 1 ± 0.9. */
    SHARPNESS(0.9, true) {
        @Override
        BufferedImage transform(BufferedImage img, double level) {
            return Enhance.sharpness(img, 1 + level);
        }
    },
    /** Keeps 8 down to 4 bits per channel. */
    POSTERIZE(4, false) {
        @Override
        BufferedImage transform(BufferedImage img, double level) {
            return LevelOps.posterize(img, 8 - (int) Math.round(level));
        }
    },
    /** Inverts channel values above a threshold going from 255 down to 0. */
    SOLARIZE(255, false) {
        @Override
        BufferedImage transform(BufferedImage img, double level) {
            return LevelOps.solarize(img, 255 - level);
        }
    },
    /** Per-channel min/max stretch (no strength). */
    AUTO_CONTRAST(0, false) {
        @Override
        BufferedImage transform(BufferedImage img, double level) {
            return LevelOps.autoContrast(img);
        }
    },
    /** Per-channel histogram equalisation (no strength). */
    EQUALIZE(0, false) {
        @Override
        BufferedImage transform(BufferedImage img, double level) {
            return LevelOps.equalize(img);
        }
    };

    private final double maxLevel;
    private final boolean signed;

    RandAugmentOp(double maxLevel, boolean signed) {
        this.maxLevel = maxLevel;
        this.signed = signed;
    }

    /** Whether the strength gets a random sign. */
    public boolean signed() {
        return signed;
    }

    /** The strength at magnitude fraction 1 (shear factor, translate fraction of the size, degrees, …). */
    public double maxLevel() {
        return maxLevel;
    }

    /**
     * Applies the operation at {@code magnitudeFraction} (0..1) of its range; draws one boolean from {@code rng} for
     * the sign of signed operations, nothing otherwise. Never modifies {@code img}; may return it when nothing
     * changes.
     */
    public BufferedImage apply(BufferedImage img, double magnitudeFraction, Random rng) {
        if (!(magnitudeFraction >= 0 && magnitudeFraction <= 1)) {
            throw new IllegalArgumentException("magnitude fraction must be in [0, 1], got " + magnitudeFraction);
        }
        double level = magnitudeFraction * maxLevel;
        if (signed && rng.nextBoolean()) {
            level = -level;
        }
        return transform(img, level);
    }

    /** The operation at a signed strength {@code level} in its own units. */
    abstract BufferedImage transform(BufferedImage img, double level);
}
