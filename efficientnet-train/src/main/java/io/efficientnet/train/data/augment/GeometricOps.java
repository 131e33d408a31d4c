package io.efficientnet.train.data.augment;

import java.awt.geom.AffineTransform;
import java.awt.geom.NoninvertibleTransformException;
import java.awt.image.BufferedImage;

/**
 * Affine warps about the image centre with bilinear interpolation. Output has the input's size and type
 * {@code TYPE_INT_RGB}; area that comes from outside the source is black, and edge pixels blend towards black the
 * way zero padding does.
 */
public final class GeometricOps {

    private GeometricOps() {
    }

    /** Rotates the content counter-clockwise (as seen on screen) by {@code degrees} about the centre. */
    public static BufferedImage rotate(BufferedImage src, double degrees) {
        return warp(src, AffineTransform.getRotateInstance(-Math.toRadians(degrees), src.getWidth() / 2.0,
                src.getHeight() / 2.0));
    }

    /** Shears along x: a point moves right by {@code factor × (y − centreY)}; the middle row stays put. */
    public static BufferedImage shearX(BufferedImage src, double factor) {
        double cy = src.getHeight() / 2.0;
        return warp(src, new AffineTransform(1, 0, factor, 1, -factor * cy, 0));
    }

    /** Shears along y: a point moves down by {@code factor × (x − centreX)}; the middle column stays put. */
    public static BufferedImage shearY(BufferedImage src, double factor) {
        double cx = src.getWidth() / 2.0;
        return warp(src, new AffineTransform(1, factor, 0, 1, 0, -factor * cx));
    }

    /** Moves the content by {@code (dx, dy)} pixels (right and down for positive values). */
    public static BufferedImage translate(BufferedImage src, double dx, double dy) {
        return warp(src, AffineTransform.getTranslateInstance(dx, dy));
    }

    /**
     * Applies {@code forward} (source pixel coordinates → output pixel coordinates, pixel {@code (i, j)} covering
     * {@code [i, i+1) × [j, j+1)}) by sampling the source bilinearly at the inverse image of each output pixel
     * centre.
     *
     * @throws IllegalArgumentException if {@code forward} is not invertible
     */
    public static BufferedImage warp(BufferedImage src, AffineTransform forward) {
        AffineTransform inverse;
        try {
            inverse = forward.createInverse();
        } catch (NoninvertibleTransformException e) {
            throw new IllegalArgumentException("transform is not invertible: " + forward, e);
        }
        double[] m = new double[6]; // m00 m10 m01 m11 m02 m12
        inverse.getMatrix(m);
        int w = src.getWidth();
        int h = src.getHeight();
        int[] in = Pixels.read(src);
        int[] out = new int[w * h];
        for (int y = 0; y < h; y++) {
            double py = y + 0.5;
            for (int x = 0; x < w; x++) {
                double px = x + 0.5;
                // Source position in pixel-centre coordinates (pixel i has its centre at i).
                double u = m[0] * px + m[2] * py + m[4] - 0.5;
                double v = m[1] * px + m[3] * py + m[5] - 0.5;
                out[y * w + x] = sample(in, w, h, u, v);
            }
        }
        return Pixels.write(w, h, out);
    }

    /** Bilinear sample at {@code (u, v)}; pixels outside the image count as black. */
    private static int sample(int[] px, int w, int h, double u, double v) {
        if (!(u > -1 && u < w && v > -1 && v < h)) {
            return 0;
        }
        int x0 = (int) Math.floor(u);
        int y0 = (int) Math.floor(v);
        double fx = u - x0;
        double fy = v - y0;
        double r = 0;
        double g = 0;
        double b = 0;
        for (int dy = 0; dy <= 1; dy++) {
            int yy = y0 + dy;
            if (yy < 0 || yy >= h) {
                continue;
            }
            double wy = dy == 0 ? 1 - fy : fy;
            for (int dx = 0; dx <= 1; dx++) {
                int xx = x0 + dx;
                if (xx < 0 || xx >= w) {
                    continue;
                }
                double weight = wy * (dx == 0 ? 1 - fx : fx);
                int p = px[yy * w + xx];
                r += weight * Pixels.red(p);
                g += weight * Pixels.green(p);
                b += weight * Pixels.blue(p);
            }
        }
        return Pixels.pack(Pixels.clamp8(r), Pixels.clamp8(g), Pixels.clamp8(b));
    }
}
