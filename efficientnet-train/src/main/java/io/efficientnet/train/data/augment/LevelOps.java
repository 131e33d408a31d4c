package io.efficientnet.train.data.augment;

import java.awt.image.BufferedImage;

/**
 * Per-channel tone mappings, each a 256-entry lookup table per channel: posterize, solarize, auto-contrast and
 * histogram equalisation.
 */
public final class LevelOps {

    private LevelOps() {
    }

    /** Keeps the top {@code bits} bits (1..8) of every channel value, zeroing the rest. */
    public static BufferedImage posterize(BufferedImage src, int bits) {
        if (bits < 1 || bits > 8) {
            throw new IllegalArgumentException("posterize bits must be in 1..8, got " + bits);
        }
        int mask = (0xff << (8 - bits)) & 0xff;
        int[] lut = new int[256];
        for (int v = 0; v < 256; v++) {
            lut[v] = v & mask;
        }
        return map(src, lut, lut, lut);
    }

    /**
     * Inverts ({@code v → 255 − v}) every channel value strictly above {@code threshold}; threshold 255 leaves the
     * image unchanged, a negative threshold inverts it entirely.
     */
    public static BufferedImage solarize(BufferedImage src, double threshold) {
        int[] lut = new int[256];
        for (int v = 0; v < 256; v++) {
            lut[v] = v > threshold ? 255 - v : v;
        }
        return map(src, lut, lut, lut);
    }

    /** Stretches each channel linearly so that its minimum becomes 0 and its maximum 255 (flat channels kept). */
    public static BufferedImage autoContrast(BufferedImage src) {
        int[][] hist = histograms(src);
        int[][] luts = new int[3][256];
        for (int c = 0; c < 3; c++) {
            int lo = 0;
            while (lo < 255 && hist[c][lo] == 0) {
                lo++;
            }
            int hi = 255;
            while (hi > 0 && hist[c][hi] == 0) {
                hi--;
            }
            for (int v = 0; v < 256; v++) {
                luts[c][v] = hi > lo ? Pixels.clamp8((v - lo) * 255.0 / (hi - lo)) : v;
            }
        }
        return map(src, luts[0], luts[1], luts[2]);
    }

    /**
     * Equalises each channel's histogram as PIL's {@code ImageOps.equalize} does: values are mapped by their
     * cumulative count, with the most extreme (highest) level left out of the step so that it lands on 255.
     * Channels with too few pixels off their top level to fill 255 steps are kept.
     */
    public static BufferedImage equalize(BufferedImage src) {
        int[][] hist = histograms(src);
        int[][] luts = new int[3][256];
        for (int c = 0; c < 3; c++) {
            int[] hc = hist[c];
            int top = 255;
            while (top > 0 && hc[top] == 0) {
                top--;
            }
            long total = 0;
            for (int n : hc) {
                total += n;
            }
            long step = (total - hc[top]) / 255;
            long cumulative = step / 2;
            for (int v = 0; v < 256; v++) {
                luts[c][v] = step == 0 ? v : (int) Math.min(255, cumulative / step);
                cumulative += hc[v];
            }
        }
        return map(src, luts[0], luts[1], luts[2]);
    }

    private static int[][] histograms(BufferedImage src) {
        int[][] hist = new int[3][256];
        for (int p : Pixels.read(src)) {
            hist[0][Pixels.red(p)]++;
            hist[1][Pixels.green(p)]++;
            hist[2][Pixels.blue(p)]++;
        }
        return hist;
    }

    private static BufferedImage map(BufferedImage src, int[] red, int[] green, int[] blue) {
        int[] px = Pixels.read(src);
        for (int i = 0; i < px.length; i++) {
            int p = px[i];
            px[i] = Pixels.pack(red[Pixels.red(p)], green[Pixels.green(p)], blue[Pixels.blue(p)]);
        }
        return Pixels.write(src.getWidth(), src.getHeight(), px);
    }
}
