package io.efficientnet.train.data.augment;

import java.awt.image.BufferedImage;
import java.util.Arrays;

/**
 * Enhancement in the manner of PIL's {@code ImageEnhance}: each operation blends the image with a "degenerate"
 * version, {@code out = degenerate + factor × (image − degenerate)}, rounded and clipped to 0..255. Factor 1 returns
 * the image unchanged, 0 the degenerate image; factors above 1 extrapolate away from it.
 */
public final class Enhance {

    private Enhance() {
    }

    /** Degenerate image black: scales every channel by {@code factor}. */
    public static BufferedImage brightness(BufferedImage src, double factor) {
        int[] px = Pixels.read(src);
        return blend(src, new int[px.length], px, factor);
    }

    /** Degenerate image the gray (luma) version: 0 removes colour, above 1 saturates. */
    public static BufferedImage color(BufferedImage src, double factor) {
        int[] px = Pixels.read(src);
        int[] gray = new int[px.length];
        for (int i = 0; i < px.length; i++) {
            int l = Pixels.luma(px[i]);
            gray[i] = Pixels.pack(l, l, l);
        }
        return blend(src, gray, px, factor);
    }

    /** Degenerate image uniform gray at the mean luma: 0 gives a flat image. */
    public static BufferedImage contrast(BufferedImage src, double factor) {
        int[] px = Pixels.read(src);
        long sum = 0;
        for (int p : px) {
            sum += Pixels.luma(p);
        }
        int mean = (int) Math.round((double) sum / px.length);
        int[] gray = new int[px.length];
        Arrays.fill(gray, Pixels.pack(mean, mean, mean));
        return blend(src, gray, px, factor);
    }

    /**
     * Degenerate image smoothed with the 3×3 kernel {@code [1 1 1; 1 5 1; 1 1 1] / 13} (border pixels kept):
     * below 1 blurs, above 1 sharpens.
     */
    public static BufferedImage sharpness(BufferedImage src, double factor) {
        int w = src.getWidth();
        int h = src.getHeight();
        int[] px = Pixels.read(src);
        int[] smooth = px.clone();
        for (int y = 1; y < h - 1; y++) {
            for (int x = 1; x < w - 1; x++) {
                int[] sum = new int[3];
                for (int dy = -1; dy <= 1; dy++) {
                    for (int dx = -1; dx <= 1; dx++) {
                        int p = px[(y + dy) * w + x + dx];
                        int k = dx == 0 && dy == 0 ? 5 : 1;
                        for (int c = 0; c < 3; c++) {
                            sum[c] += k * Pixels.channel(p, c);
                        }
                    }
                }
                smooth[y * w + x] = Pixels.pack(Pixels.clamp8(sum[0] / 13.0), Pixels.clamp8(sum[1] / 13.0),
                        Pixels.clamp8(sum[2] / 13.0));
            }
        }
        return blend(src, smooth, px, factor);
    }

    private static BufferedImage blend(BufferedImage src, int[] degenerate, int[] px, double factor) {
        int[] out = new int[px.length];
        for (int i = 0; i < px.length; i++) {
            int d = degenerate[i];
            int p = px[i];
            out[i] = Pixels.pack(mix(Pixels.red(d), Pixels.red(p), factor), mix(Pixels.green(d), Pixels.green(p), factor),
                    mix(Pixels.blue(d), Pixels.blue(p), factor));
        }
        return Pixels.write(src.getWidth(), src.getHeight(), out);
    }

    private static int mix(int degenerate, int value, double factor) {
        return Pixels.clamp8(degenerate + factor * (value - degenerate));
    }
}
