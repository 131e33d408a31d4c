package io.efficientnet.core.weights;

import io.efficientnet.core.model.Variant;

import java.util.Arrays;
import java.util.List;

/**
 * The published ImageNet weights of one variant, as data: where the files are, their checksums, and the preprocessing
 * they were trained and evaluated with. Read by {@code EfficientNet.initPretrained}, the command line's
 * {@code predict --pretrained} and the examples.
 *
 * @param variant       B0–B7
 * @param fileWithTop   Keras applications' file with the 1000-class classifier
 * @param md5WithTop    its MD5, as published in Keras' {@code efficientnet.py}
 * @param fileNoTop     the headless file
 * @param md5NoTop      its MD5
 * @param resolution    the input size the weights were trained at (square)
 * @param cropFraction  the centre crop of the reference evaluation, {@code resolution / (resolution + 32)} of the
 *                      image's shorter side, resized to {@code resolution}
 * @param interpolation the reference evaluation's resize ({@code bicubic})
 * @param mean          per-channel RGB mean in 0..1 units ({@link ImageNetPreprocessing#MEAN})
 * @param std           per-channel RGB standard deviation in 0..1 units ({@link ImageNetPreprocessing#STD})
 */
public record ImageNetWeights(Variant variant, String fileWithTop, String md5WithTop, String fileNoTop,
                              String md5NoTop, int resolution, double cropFraction, String interpolation,
                              float[] mean, float[] std) {

    /** Pixels added to the resolution to size the evaluation's centre crop (the TensorFlow reference's padding). */
    public static final int CROP_PADDING = 32;

    // Variant, MD5 with the classifier, MD5 headless: Keras applications' efficientnet.py.
    private static final String[][] TABLE = {
            {"B0", "902e53a9f72be733fc0bcb005b3ebbac", "50bc09e76180e00e4465e1a485ddc09d"},
            {"B1", "1d254153d4ab51201f1646940f018540", "74c4e6b3e1f6a1eea24c589628592432"},
            {"B2", "b15cce36ff4dcbd00b6dd88e7857a6ad", "111f8e2ac8aa800a7a99e3239f7bfb39"},
            {"B3", "ffd1fdc53d0ce67064dc6a9c7960ede0", "af6d107764bb5b1abb91932881670226"},
            {"B4", "18c95ad55216b8f92d7e70b3a046e2fc", "ebc24e6d6c33eaebbd558eafbeedf1ba"},
            {"B5", "ace28f2a6363774853a83a0b21b9421a", "38879255a25d3c92d5e44e04ae6cec6f"},
            {"B6", "165f6e37dce68623721b423839de8be5", "9ecce42647a20130c1f39a5d4cb75743"},
            {"B7", "8c03f828fec3ef71311cd463b6759d99", "cbcfe4450ddf6f3ad90b1b398090fe4a"},
    };

    private static final List<ImageNetWeights> ALL = Arrays.stream(TABLE).map(row -> {
        Variant v = Variant.valueOf(row[0]);
        int res = v.scaling().resolution();
        String base = "efficientnet" + v.id();
        return new ImageNetWeights(v, base + ".h5", row[1], base + "_notop.h5", row[2], res,
                cropFraction(res), "bicubic", ImageNetPreprocessing.MEAN.clone(),
                ImageNetPreprocessing.STD.clone());
    }).toList();

    /** The reference evaluation's centre crop at {@code resolution}: {@code resolution / (resolution + 32)}. */
    public static double cropFraction(int resolution) {
        return (double) resolution / (resolution + CROP_PADDING);
    }

    /** A copy of the channel means. */
    @Override
    public float[] mean() {
        return mean.clone();
    }

    /** A copy of the channel standard deviations. */
    @Override
    public float[] std() {
        return std.clone();
    }

    /** The weights of {@code variant}. */
    public static ImageNetWeights of(Variant variant) {
        return ALL.get(variant.ordinal());
    }

    /** Every variant's weights, B0 first. */
    public static List<ImageNetWeights> all() {
        return ALL;
    }

    /** The file name with or without the classifier. */
    public String fileName(boolean withTop) {
        return withTop ? fileWithTop : fileNoTop;
    }

    /** The MD5 of {@link #fileName}. */
    public String md5(boolean withTop) {
        return withTop ? md5WithTop : md5NoTop;
    }

    /** The 1000 class names, in the classifier's order. */
    public List<String> labels() {
        return ImageNetLabels.all();
    }
}
