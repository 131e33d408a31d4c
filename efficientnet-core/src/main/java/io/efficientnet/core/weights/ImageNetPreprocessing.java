package io.efficientnet.core.weights;

import org.nd4j.linalg.dataset.api.preprocessor.NormalizerStandardize;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The input preprocessing the network expects: RGB pixels in 0..255, NCHW, standardised per channel with the
 * ImageNet mean and standard deviation, {@code (x/255 − mean)/std}. Expressed as a DL4J
 * {@link NormalizerStandardize} in 0..255 units so that it can be stored in a model zip and restored with it.
 * Images read with DataVec arrive in BGR order: convert them to RGB first (the project's image loaders do).
 */
public final class ImageNetPreprocessing {

    /** ImageNet channel means, RGB, in 0..1 units. */
    public static final float[] MEAN = {0.485f, 0.456f, 0.406f};
    /** ImageNet channel standard deviations, RGB, in 0..1 units. */
    public static final float[] STD = {0.229f, 0.224f, 0.225f};

    private ImageNetPreprocessing() {
    }

    /** The standard ImageNet normalizer. */
    public static NormalizerStandardize normalizer() {
        return normalizer(MEAN, STD);
    }

    /**
     * A normalizer for {@code (x/255 − mean)/std} with per-channel {@code mean} and {@code std} in 0..1 units.
     */
    public static NormalizerStandardize normalizer(float[] mean, float[] std) {
        if (mean.length != std.length) {
            throw new IllegalArgumentException("mean has " + mean.length + " channels but std has " + std.length);
        }
        float[] m = new float[mean.length];
        float[] s = new float[std.length];
        for (int i = 0; i < mean.length; i++) {
            if (!(std[i] > 0)) {
                throw new IllegalArgumentException("standard deviation of channel " + i + " must be > 0, got " + std[i]);
            }
            m[i] = mean[i] * 255f;
            s[i] = std[i] * 255f;
        }
        return new NormalizerStandardize(Nd4j.createFromArray(m).reshape(1, m.length),
                Nd4j.createFromArray(s).reshape(1, s.length));
    }

    /**
     * Reverses the channel axis of an NCHW batch in place (BGR ↔ RGB), for images decoded by DataVec's
     * {@code NativeImageLoader}, which yields BGR.
     *
     * @return {@code images}, now in the other channel order
     * @throws IllegalArgumentException if {@code images} is not {@code [N, 3, H, W]}
     */
    public static org.nd4j.linalg.api.ndarray.INDArray bgrToRgb(org.nd4j.linalg.api.ndarray.INDArray images) {
        if (images.rank() != 4 || images.size(1) != 3) {
            throw new IllegalArgumentException("expected an NCHW batch [N, 3, H, W], got shape "
                    + java.util.Arrays.toString(images.shape()));
        }
        org.nd4j.linalg.api.ndarray.INDArray blue = images.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.point(0)).dup();
        org.nd4j.linalg.api.ndarray.INDArray red = images.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.point(2));
        images.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.point(0))
                .assign(red);
        red.assign(blue);
        return images;
    }

    /** Normalises a DataVec-decoded (BGR, 0..255, NCHW) batch in place for the network: BGR→RGB, then ImageNet. */
    public static org.nd4j.linalg.api.ndarray.INDArray fromDataVecBgr(org.nd4j.linalg.api.ndarray.INDArray images) {
        bgrToRgb(images);
        normalizer().transform(images);
        return images;
    }
}
