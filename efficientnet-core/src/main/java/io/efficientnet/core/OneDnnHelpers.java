package io.efficientnet.core;

/**
 * DL4J's oneDNN implementations of its convolution and pooling layers ("helpers"). DL4J 1.0.0-M2.1 disables them by
 * default (system property {@value #PROPERTY} = {@code true}) and, on CPU, could not use them anyway because of a
 * class-name lookup that fails (fixed by the {@code org.nd4j.nativeblas.Nd4jCpu} shim in this module). With them,
 * EfficientNet-B0 ran 2.4× faster in inference and 1.9× faster in training on the 2-core AVX2 development machine
 * (BENCHMARKS.md), with outputs equal to the golden Keras outputs. {@link EfficientNet#init()} and
 * {@link EfficientNet#initPretrained()} call {@link #enableUnlessConfigured()}; networks restored with
 * {@code ModelSerializer} get the helpers when this was called before restoring them.
 */
public final class OneDnnHelpers {

    /** DL4J's switch: {@code true} disables the helpers. */
    public static final String PROPERTY = "org.eclipse.deeplearning4j.helpers.disable";

    private OneDnnHelpers() {
    }

    /**
     * Enables the helpers for layers created from now on, unless {@value #PROPERTY} was set explicitly (an explicit
     * {@code -D} always wins).
     *
     * @return whether layers created now get the helpers
     */
    public static boolean enableUnlessConfigured() {
        if (System.getProperty(PROPERTY) == null) {
            System.setProperty(PROPERTY, "false");
        }
        return enabled();
    }

    /** Whether layers created now get the helpers. */
    public static boolean enabled() {
        return !Boolean.parseBoolean(System.getProperty(PROPERTY, "true"));
    }
}
