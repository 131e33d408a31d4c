package io.efficientnet.core.weights;

import io.efficientnet.core.Variant;

import java.net.URI;
import java.util.Locale;
import java.util.Map;

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

    // MD5s published in Keras' applications/efficientnet.py: {top, notop}.
    private static final Map<Variant, String[]> KERAS_MD5 = Map.of(
            Variant.B0, new String[] {"902e53a9f72be733fc0bcb005b3ebbac", "50bc09e76180e00e4465e1a485ddc09d"},
            Variant.B1, new String[] {"1d254153d4ab51201f1646940f018540", "74c4e6b3e1f6a1eea24c589628592432"},
            Variant.B2, new String[] {"b15cce36ff4dcbd00b6dd88e7857a6ad", "111f8e2ac8aa800a7a99e3239f7bfb39"},
            Variant.B3, new String[] {"ffd1fdc53d0ce67064dc6a9c7960ede0", "af6d107764bb5b1abb91932881670226"},
            Variant.B4, new String[] {"18c95ad55216b8f92d7e70b3a046e2fc", "ebc24e6d6c33eaebbd558eafbeedf1ba"},
            Variant.B5, new String[] {"ace28f2a6363774853a83a0b21b9421a", "38879255a25d3c92d5e44e04ae6cec6f"},
            Variant.B6, new String[] {"165f6e37dce68623721b423839de8be5", "9ecce42647a20130c1f39a5d4cb75743"},
            Variant.B7, new String[] {"8c03f828fec3ef71311cd463b6759d99", "cbcfe4450ddf6f3ad90b1b398090fe4a"});

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
        return "efficientnet" + variant.id() + (includeTop ? "" : "_notop") + ".h5";
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
        return new WeightSource(URI.create(base + kerasFileName(variant, includeTop)),
                KERAS_MD5.get(variant)[includeTop ? 0 : 1]);
    }

    /** A short stable key for cache file names. */
    public String cacheKey() {
        if (md5 != null) {
            return md5.substring(0, 12);
        }
        return Integer.toHexString(uri.toString().hashCode());
    }
}
