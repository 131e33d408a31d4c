package io.efficientnet.train.config;

import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.model.Variant;

/**
 * Which network to train ({@code model:} in the YAML).
 *
 * @param variant    B0–B7 ({@code b0} … {@code b7}); ignored when {@code phi} is set
 * @param phi        compound coefficient φ instead of a variant (e.g. −3 for a small network), or null
 * @param width      width multiplier override, or null
 * @param depth      depth multiplier override, or null
 * @param resolution input resolution override (square), or null for the variant's
 * @param dropout    dropout before the classifier, or null for the variant's
 * @param dropPath   drop-path (stochastic depth) rate of the last block
 * @param batchNormMomentum batch-norm moving-average momentum (0.99 as in Keras; 0.9 lets the statistics that
 *                   evaluation uses settle within a few hundred steps on small data)
 * @param pretrained initial weights: null (random), {@code imagenet}, or a Keras {@code .h5} / model {@code .zip} path;
 *                   layers whose shape differs (the classifier for another class count) keep their random init
 */
public record ModelConfig(String variant, Double phi, Double width, Double depth, Integer resolution, Double dropout,
                          double dropPath, double batchNormMomentum, String pretrained) {

    public ModelConfig {
        if (phi == null) {
            Variant.parse(variant); // throws with the allowed values
        }
        ConfigChecks.range("model.drop_path", dropPath, 0, 1, false);
        ConfigChecks.range("model.batch_norm_momentum", batchNormMomentum, 0, 1, false);
        if (dropout != null) {
            ConfigChecks.range("model.dropout", dropout, 0, 1, false);
        }
        if (resolution != null && resolution < 32) {
            throw new IllegalArgumentException("model.resolution must be >= 32, got " + resolution);
        }
        if (width != null && !(width > 0)) {
            throw new IllegalArgumentException("model.width must be > 0, got " + width);
        }
        if (depth != null && !(depth > 0)) {
            throw new IllegalArgumentException("model.depth must be > 0, got " + depth);
        }
    }

    /** A builder for this model with {@code numClasses} outputs; the caller adds the recipe's settings. */
    public EfficientNet.Builder builder(int numClasses) {
        EfficientNet.Builder b = EfficientNet.builder();
        if (phi != null) {
            b.phi(phi);
        } else {
            b.variant(Variant.parse(variant));
        }
        if (width != null) {
            b.widthMultiplier(width);
        }
        if (depth != null) {
            b.depthMultiplier(depth);
        }
        if (resolution != null) {
            b.resolution(resolution);
        }
        if (dropout != null) {
            b.dropoutRate(dropout);
        }
        return b.dropPathRate(dropPath).batchNormMomentum(batchNormMomentum).numClasses(numClasses);
    }

    /** The input resolution this model trains at. */
    public int inputResolution() {
        return builder(2).build().inputShape()[1];
    }
}
