package io.efficientnet.train.data.augment;

import io.efficientnet.train.data.ImageDecoder;

import java.awt.image.BufferedImage;
import java.util.Random;

/**
 * Random crop of random area and aspect ratio, resized to the output size (the "Inception" crop). Each of up to
 * {@value #ATTEMPTS} attempts draws an area fraction uniformly from {@code [scaleMin, scaleMax]} and an aspect ratio
 * (width / height) log-uniformly from {@code [ratioMin, ratioMax]}; the first box that fits in the image is placed
 * uniformly at random. If none fits, the central crop of the whole image with its aspect ratio clamped to the range
 * is used.
 *
 * @param scaleMin smallest area fraction, in (0, 1]
 * @param scaleMax largest area fraction, in [scaleMin, 1]
 * @param ratioMin smallest aspect ratio, positive
 * @param ratioMax largest aspect ratio, at least ratioMin
 */
public record RandomResizedCrop(double scaleMin, double scaleMax, double ratioMin, double ratioMax) {

    /** Attempts at a random box before falling back to the central crop. */
    public static final int ATTEMPTS = 10;

    /** The usual setting: area 8 %–100 %, aspect ratio 3/4–4/3. */
    public static final RandomResizedCrop DEFAULT = new RandomResizedCrop(0.08, 1.0, 3.0 / 4.0, 4.0 / 3.0);

    public RandomResizedCrop {
        if (!(scaleMin > 0 && scaleMin <= 1)) {
            throw new IllegalArgumentException("scaleMin must be in (0, 1], got " + scaleMin);
        }
        if (!(scaleMax >= scaleMin && scaleMax <= 1)) {
            throw new IllegalArgumentException("scaleMax must be in [scaleMin=" + scaleMin + ", 1], got " + scaleMax);
        }
        if (!(ratioMin > 0 && Double.isFinite(ratioMin))) {
            throw new IllegalArgumentException("ratioMin must be positive and finite, got " + ratioMin);
        }
        if (!(ratioMax >= ratioMin && Double.isFinite(ratioMax))) {
            throw new IllegalArgumentException(
                    "ratioMax must be finite and at least ratioMin=" + ratioMin + ", got " + ratioMax);
        }
    }

    /** Draws a crop box inside a {@code srcW × srcH} image. */
    public Box sample(int srcW, int srcH, Random rng) {
        if (srcW < 1 || srcH < 1) {
            throw new IllegalArgumentException("image size must be positive, got " + srcW + "x" + srcH);
        }
        double area = (double) srcW * srcH;
        double logRatioMin = Math.log(ratioMin);
        double logRatioMax = Math.log(ratioMax);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            double targetArea = area * uniform(rng, scaleMin, scaleMax);
            double ratio = Math.exp(uniform(rng, logRatioMin, logRatioMax));
            int w = (int) Math.round(Math.sqrt(targetArea * ratio));
            int h = (int) Math.round(Math.sqrt(targetArea / ratio));
            if (w > 0 && w <= srcW && h > 0 && h <= srcH) {
                int y = rng.nextInt(srcH - h + 1);
                int x = rng.nextInt(srcW - w + 1);
                return new Box(x, y, w, h);
            }
        }
        return centralCrop(srcW, srcH);
    }

    /** Crops a random box of {@code src} and resizes it to {@code outW × outH} (bilinear). */
    public BufferedImage apply(BufferedImage src, int outW, int outH, Random rng) {
        if (outW < 1 || outH < 1) {
            throw new IllegalArgumentException("output size must be positive, got " + outW + "x" + outH);
        }
        Box box = sample(src.getWidth(), src.getHeight(), rng);
        return ImageDecoder.cropResize(src, box.x(), box.y(), box.w(), box.h(), outW, outH);
    }

    /** The whole image, narrowed along one side where its aspect ratio lies outside the range; centred. */
    private Box centralCrop(int srcW, int srcH) {
        double inRatio = (double) srcW / srcH;
        int w = srcW;
        int h = srcH;
        if (inRatio < ratioMin) {
            h = clamp((int) Math.round(w / ratioMin), srcH);
        } else if (inRatio > ratioMax) {
            w = clamp((int) Math.round(h * ratioMax), srcW);
        }
        return new Box((srcW - w) / 2, (srcH - h) / 2, w, h);
    }

    private static int clamp(int v, int max) {
        return Math.max(1, Math.min(max, v));
    }

    private static double uniform(Random rng, double lo, double hi) {
        return lo + (hi - lo) * rng.nextDouble();
    }
}
