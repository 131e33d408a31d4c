package io.efficientnet.train.data.augment;

import java.awt.image.BufferedImage;
import java.util.Random;

/** Small image builders and pixel accessors for the augmentation tests. */
final class TestImages {

    private TestImages() {
    }

    static BufferedImage solid(int w, int h, int rgb) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, rgb);
            }
        }
        return img;
    }

    /** Independent random channel values in {@code [lo, hi]}. */
    static BufferedImage noise(int w, int h, int lo, int hi, long seed) {
        Random r = new Random(seed);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int c0 = lo + r.nextInt(hi - lo + 1);
                int c1 = lo + r.nextInt(hi - lo + 1);
                int c2 = lo + r.nextInt(hi - lo + 1);
                img.setRGB(x, y, (c0 << 16) | (c1 << 8) | c2);
            }
        }
        return img;
    }

    static int rgb(BufferedImage img, int x, int y) {
        return img.getRGB(x, y) & 0xffffff;
    }

    static int channel(BufferedImage img, int x, int y, int c) {
        return (rgb(img, x, y) >> (16 - 8 * c)) & 0xff;
    }

    /** Largest absolute channel difference; the images must have the same size. */
    static int maxDiff(BufferedImage a, BufferedImage b) {
        int d = 0;
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                for (int c = 0; c < 3; c++) {
                    d = Math.max(d, Math.abs(channel(a, x, y, c) - channel(b, x, y, c)));
                }
            }
        }
        return d;
    }
}
