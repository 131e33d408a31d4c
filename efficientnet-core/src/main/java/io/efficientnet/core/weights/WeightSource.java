package io.efficientnet.core.weights;

import io.efficientnet.core.model.Variant;

import java.net.URI;
import java.util.Locale;

/**
 * Where pretrained weights come from: a URL ({@code https:}, {@code http:} or {@code file:}) and the MD5 the
 * downloaded file must have (null: not checked, for local files the user chose).
 *
 * @param uri the weight file
 * @param md5 expected MD5 as 32 hex digits, or null
 */
public record WeightSource(URI uri, String md5) {

    /** Where Keras applications publish their weights. */
    public static final String KERAS_BASE_URL = "https://storage.googleapis.com/keras-applications/";
    /** System property: a base URL serving the same files as {@link #KERAS_BASE_URL} (a mirror). */
    public static final String MIRROR_PROPERTY = "efficientnet.weights.mirror";
    /** System property: a local Keras {@code .h5} file to use instead of downloading. */
    public static final String FILE_PROPERTY = "efficientnet.weights.file";

    public WeightSource {
        if (uri == null) {
            throw new IllegalArgumentException("weight URI must not be null");
        }
        if (md5 != null) {
            md5 = md5.toLowerCase(Locale.ROOT);
            if (!md5.matches("[0-9a-f]{32}")) {
                throw new IllegalArgumentException("MD5 must be 32 hex digits, got '" + md5 + "'");
            }
        }
    }

    /** Keras applications' file name, e.g. {@code efficientnetb0.h5} or {@code efficientnetb0_notop.h5}. */
    public static String kerasFileName(Variant variant, boolean includeTop) {
        return ImageNetWeights.of(variant).fileName(includeTop);
    }

    /**
     * The official Keras ImageNet weights, honouring the {@link #FILE_PROPERTY} (local file, unchecked) and
     * {@link #MIRROR_PROPERTY} (same files elsewhere, checked) system properties.
     */
    public static WeightSource imagenet(Variant variant, boolean includeTop) {
        String file = System.getProperty(FILE_PROPERTY);
        if (file != null && !file.isBlank()) {
            return new WeightSource(java.nio.file.Path.of(file).toAbsolutePath().toUri(), null);
        }
        String base = System.getProperty(MIRROR_PROPERTY, KERAS_BASE_URL);
        if (!base.endsWith("/")) {
            base = base + "/";
        }
        ImageNetWeights weights = ImageNetWeights.of(variant);
        return new WeightSource(URI.create(base + weights.fileName(includeTop)), weights.md5(includeTop));
    }

    /** A short stable key for cache file names. */
    public String cacheKey() {
        if (md5 != null) {
            return md5.substring(0, 12);
        }
        return Integer.toHexString(uri.toString().hashCode());
    }
}
