package io.efficientnet.train.data;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The reference evaluation preprocessing: resize so that the short side is {@code size / cropFraction}, then take
 * the centre {@code size × size} crop (crop fraction 0.875: 256 → 224). Done as one crop-and-resize of the source.
 *
 * @param height       output height
 * @param width        output width
 * @param cropFraction fraction of the resized short side kept (0.875 in the reference)
 */
public record EvalTransform(int height, int width, double cropFraction) {

    /** Reference crop fraction. */
    public static final double CROP_FRACTION = 0.875;

    public EvalTransform {
        if (height < 1 || width < 1) {
            throw new IllegalArgumentException("output size must be positive, got " + height + "x" + width);
        }
        if (!(cropFraction > 0 && cropFraction <= 1)) {
            throw new IllegalArgumentException("crop fraction must be in (0, 1], got " + cropFraction);
        }
    }

    /** The transform for a square resolution with the reference crop fraction. */
    public static EvalTransform of(int resolution) {
        return new EvalTransform(resolution, resolution, CROP_FRACTION);
    }

    /** Applies the transform. */
    public BufferedImage apply(BufferedImage src) {
        // Scale s maps the short side to size/cropFraction; the crop is (width, height)/s in source pixels.
        double s = Math.max(height, width) / cropFraction / Math.min(src.getWidth(), src.getHeight());
        double cw = Math.min(src.getWidth(), width / s);
        double ch = Math.min(src.getHeight(), height / s);
        double x = (src.getWidth() - cw) / 2;
        double y = (src.getHeight() - ch) / 2;
        return ImageDecoder.cropResize(src, x, y, cw, ch, width, height);
    }

    /**
     * Reads an image file as RGB, applies the transform and returns it as a {@code [1, 3, height, width]} float32
     * tensor of 0..255 values (NCHW), ready for a normaliser.
     */
    public INDArray read(Path image) throws IOException {
        float[] chw = new float[3 * height * width];
        ImageDecoder.toChw(apply(ImageDecoder.readRgb(image)), chw, 0);
        return Nd4j.createFromArray(chw).reshape(1, 3, height, width);
    }
}
