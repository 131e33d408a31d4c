package io.efficientnet.train.data;

import javax.imageio.ImageIO;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Decodes image files into 8-bit RGB {@link BufferedImage}s with Java's ImageIO (JPEG, PNG, BMP, GIF, WBMP, TIFF;
 * CMYK/YCCK JPEGs through the TwelveMonkeys reader): grayscale, palette, CMYK and alpha images are converted to RGB
 * (alpha composited on black). Pixels come out in RGB order,
 * as the Keras/TF weights expect; no BGR step is involved.
 */
public final class ImageDecoder {

    private ImageDecoder() {
    }

    /**
     * Reads {@code file} as RGB.
     *
     * @throws IOException naming the file if it is missing, empty or not a decodable image
     */
    public static BufferedImage readRgb(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": no such file");
        }
        if (Files.size(file) == 0) {
            throw new IOException(file + ": empty file");
        }
        BufferedImage img;
        try {
            img = decodeBounded(file);
        } catch (IOException | RuntimeException e) {
            throw new IOException(file + ": not a readable image (" + e.getMessage() + ")", e);
        }
        if (img == null) {
            throw new IOException(file + ": not an image in a supported format (JPEG, PNG, BMP, GIF, TIFF)");
        }
        if (img.getWidth() < 1 || img.getHeight() < 1) {
            throw new IOException(file + ": image has no pixels");
        }
        return toRgb(img);
    }

    /** Largest image decoded, in pixels (a 16384 × 16384 photo): the size is read from the header first. */
    public static final long MAX_PIXELS = 1L << 28;

    /**
     * Decodes {@code file} after reading its dimensions from the header, refusing images above {@link #MAX_PIXELS}
     * (a small file can claim a huge image and exhaust memory when decoded); null if no reader knows the format.
     */
    private static BufferedImage decodeBounded(Path file) throws IOException {
        try (javax.imageio.stream.ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            java.util.Iterator<javax.imageio.ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                return null;
            }
            javax.imageio.ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long w = reader.getWidth(0);
                long h = reader.getHeight(0);
                if (w * h > MAX_PIXELS) {
                    throw new IOException("the image claims " + w + "x" + h + " pixels, more than the " + MAX_PIXELS
                            + " decoded at most; not decoded");
                }
                return reader.read(0);
            } finally {
                reader.dispose();
            }
        }
    }

    /** A copy in {@code TYPE_INT_RGB} (or the image itself if it already is). */
    public static BufferedImage toRgb(BufferedImage img) {
        if (img.getType() == BufferedImage.TYPE_INT_RGB) {
            return img;
        }
        BufferedImage rgb = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = rgb.createGraphics();
        g.drawImage(img, 0, 0, null);
        g.dispose();
        return rgb;
    }

    /** Crops {@code (x, y, w, h)} and resizes to {@code outW × outH} with bilinear interpolation. */
    public static BufferedImage cropResize(BufferedImage src, double x, double y, double w, double h, int outW,
            int outH) {
        BufferedImage out = new BufferedImage(outW, outH, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
        g.drawImage(src, 0, 0, outW, outH, (int) Math.round(x), (int) Math.round(y), (int) Math.round(x + w),
                (int) Math.round(y + h), null);
        g.dispose();
        return out;
    }

    /** Writes an RGB image into {@code dest[offset …]} as CHW floats in 0..255. */
    public static void toChw(BufferedImage img, float[] dest, int offset) {
        int w = img.getWidth();
        int h = img.getHeight();
        int plane = w * h;
        int[] px = img.getRGB(0, 0, w, h, null, 0, w);
        for (int i = 0; i < plane; i++) {
            int p = px[i];
            dest[offset + i] = (p >> 16) & 0xff;
            dest[offset + plane + i] = (p >> 8) & 0xff;
            dest[offset + 2 * plane + i] = p & 0xff;
        }
    }
}
