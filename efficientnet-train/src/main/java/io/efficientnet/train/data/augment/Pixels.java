package io.efficientnet.train.data.augment;

import java.awt.image.BufferedImage;

/** Packed 0xRRGGBB pixel access shared by the operations in this package. */
final class Pixels {

    private Pixels() {
    }

    /** All pixels, row by row, as 0x??RRGGBB. */
    static int[] read(BufferedImage img) {
        int w = img.getWidth();
        return img.getRGB(0, 0, w, img.getHeight(), null, 0, w);
    }

    /** A new {@code TYPE_INT_RGB} image holding {@code px} (row by row). */
    static BufferedImage write(int w, int h, int[] px) {
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        out.setRGB(0, 0, w, h, px, 0, w);
        return out;
    }

    static int red(int p) {
        return (p >> 16) & 0xff;
    }

    static int green(int p) {
        return (p >> 8) & 0xff;
    }

    static int blue(int p) {
        return p & 0xff;
    }

    /** Channel {@code c} (0 = red, 1 = green, 2 = blue). */
    static int channel(int p, int c) {
        return (p >> (16 - 8 * c)) & 0xff;
    }

    static int pack(int r, int g, int b) {
        return (r << 16) | (g << 8) | b;
    }

    /** Rounds to the nearest integer and clamps to 0..255. */
    static int clamp8(double v) {
        long r = Math.round(v);
        return (int) Math.max(0, Math.min(255, r));
    }

    /** ITU-R 601 luma (0.299 R + 0.587 G + 0.114 B), rounded: the gray level of a pixel. */
    static int luma(int p) {
        return clamp8(0.299 * red(p) + 0.587 * green(p) + 0.114 * blue(p));
    }
}
