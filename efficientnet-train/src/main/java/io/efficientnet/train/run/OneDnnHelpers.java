package io.efficientnet.train.run;

/**
 * DL4J 1.0.0-M2.1 ships oneDNN implementations ("helpers") of its convolution and pooling layers but turns them off
 * by default (system property {@value #PROPERTY}, default {@code true}), so layers run DL4J's own im2col + GEMM code.
 * Training turns them on: on the 2-core AVX2 development machine a B0 training step at batch 8 ran 15–25% faster
 * with them (BENCHMARKS.md), and the golden Keras outputs and the training tests pass either way. Inference is left
 * alone (it measured slightly slower with them). An explicit {@code -D}{@value #PROPERTY} always wins.
 */
public final class OneDnnHelpers {

    /** DL4J's switch: {@code true} disables the helpers. */
    public static final String PROPERTY = "org.eclipse.deeplearning4j.helpers.disable";

    private OneDnnHelpers() {
    }

    /**
     * Enables the helpers for networks created from now on, unless the property was set explicitly.
     *
     * @return whether the helpers are enabled afterwards
     */
    public static boolean enableForTraining() {
        if (System.getProperty(PROPERTY) == null) {
            System.setProperty(PROPERTY, "false");
        }
        return enabled();
    }

    /** Whether layers created now get oneDNN helpers. */
    public static boolean enabled() {
        return !Boolean.parseBoolean(System.getProperty(PROPERTY, "true"));
    }
}
