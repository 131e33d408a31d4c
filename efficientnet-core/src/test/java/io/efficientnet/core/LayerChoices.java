package io.efficientnet.core;

/**
 * For tests that compare this project's layers with DL4J's own: builder settings that are not public API (the
 * network always uses this project's layers, with batch norm and swish fused).
 */
public final class LayerChoices {

    private LayerChoices() {
    }

    /** DL4J's own {@code BatchNormalization}, {@code ConvolutionLayer} and {@code DepthwiseConvolution2D}. */
    public static EfficientNet.Builder dl4jLayers(EfficientNet.Builder builder) {
        return builder.fastBatchNorm(false).fastConvolutions(false);
    }

    /** This project's batch norm or DL4J's ({@code false}). */
    public static EfficientNet.Builder fastBatchNorm(EfficientNet.Builder builder, boolean fast) {
        return builder.fastBatchNorm(fast);
    }

    /** This project's convolutions or DL4J's ({@code false}). */
    public static EfficientNet.Builder fastConvolutions(EfficientNet.Builder builder, boolean fast) {
        return builder.fastConvolutions(fast);
    }

    /** Batch norm and swish as two layers, Keras' layout ({@code false}), or one fused layer. */
    public static EfficientNet.Builder fusedSwish(EfficientNet.Builder builder, boolean fused) {
        return builder.fusedSwish(fused);
    }
}
