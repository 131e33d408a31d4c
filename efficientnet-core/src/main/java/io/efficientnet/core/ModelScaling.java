package io.efficientnet.core;

import io.efficientnet.core.model.Scaling;
import io.efficientnet.core.model.Variant;

/**
 * The scaling a builder's choices give, the model name that says so, and the published variant whose pretrained
 * weights fit it.
 *
 * @param scaling           width, depth and resolution coefficients
 * @param name              {@code b0}…{@code b7} or {@code phi<φ>}, with {@code -custom} for overridden width or
 *                          depth
 * @param pretrainedVariant the variant, or null when φ, width or depth is set (no published weights)
 */
record ModelScaling(Scaling scaling, String name, Variant pretrainedVariant) {

    /** The scaling of {@code variant} or of φ (when not null), with the overrides that are not null. */
    static ModelScaling of(Variant variant, Double phi, Double width, Double depth, Integer resolution) {
        Scaling s;
        String label;
        if (phi != null) {
            s = Scaling.compound(phi);
            label = "phi" + formatPhi(phi);
        } else {
            s = variant.scaling();
            label = variant.id();
        }
        if (width != null) {
            s = s.withWidth(width);
        }
        if (depth != null) {
            s = s.withDepth(depth);
        }
        if (width != null || depth != null) {
            label = label + "-custom";
        }
        if (resolution != null) {
            s = s.withResolution(resolution);
        }
        return new ModelScaling(s, label, phi == null && width == null && depth == null ? variant : null);
    }

    private static String formatPhi(double phi) {
        return phi == Math.rint(phi) ? Long.toString((long) phi) : Double.toString(phi);
    }
}
