package io.efficientnet.core.model;

/**
 * The compound scaling of the baseline network: width (channel) multiplier, depth (repeat) multiplier, input
 * resolution and the dropout rate before the classifier.
 *
 * @param width      channel multiplier applied to every stage's filters (β^φ)
 * @param depth      repeat multiplier applied to every stage's block count (α^φ)
 * @param resolution square input size in pixels (224·γ^φ)
 * @param dropout    dropout rate (fraction dropped) before the classifier
 */
public record Scaling(double width, double depth, int resolution, double dropout) {

    /** Depth base α of the compound scaling rule. */
    public static final double ALPHA = 1.2;
    /** Width base β of the compound scaling rule. */
    public static final double BETA = 1.1;
    /** Resolution base γ of the compound scaling rule. */
    public static final double GAMMA = 1.15;
    /** Resolution of the baseline network B0. */
    public static final int BASE_RESOLUTION = 224;

    public Scaling {
        if (!(width > 0) || !Double.isFinite(width)) {
            throw new IllegalArgumentException("width multiplier must be a finite number > 0, got " + width);
        }
        if (!(depth > 0) || !Double.isFinite(depth)) {
            throw new IllegalArgumentException("depth multiplier must be a finite number > 0, got " + depth);
        }
        if (resolution < 32) {
            throw new IllegalArgumentException("resolution must be at least 32 pixels (the network downsamples 32x), got "
                    + resolution);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("dropout rate must be in [0, 1), got " + dropout);
        }
    }

    /**
     * Scaling for compound coefficient φ: depth α^φ, width β^φ, resolution 224·γ^φ rounded to a multiple of 8.
     * The dropout rate follows the published table's trend: 0.2 + 0.05·φ, clamped to [0.1, 0.5].
     *
     * @param phi compound coefficient; negative values give networks smaller than B0
     */
    public static Scaling compound(double phi) {
        if (!Double.isFinite(phi)) {
            throw new IllegalArgumentException("phi must be a finite number, got " + phi);
        }
        int resolution = (int) (Math.round(BASE_RESOLUTION * Math.pow(GAMMA, phi) / 8.0) * 8);
        if (resolution < 32) {
            throw new IllegalArgumentException(String.format(
                    "phi=%s gives resolution %d; phi must be >= %.2f so that the input is at least 32 pixels",
                    phi, resolution, Math.log(28.0 / BASE_RESOLUTION) / Math.log(GAMMA)));
        }
        double dropout = Math.min(0.5, Math.max(0.1, 0.2 + 0.05 * phi));
        return new Scaling(Math.pow(BETA, phi), Math.pow(ALPHA, phi), resolution, dropout);
    }

    /** A copy with another resolution. */
    public Scaling withResolution(int newResolution) {
        return new Scaling(width, depth, newResolution, dropout);
    }

    /** A copy with another width multiplier. */
    public Scaling withWidth(double newWidth) {
        return new Scaling(newWidth, depth, resolution, dropout);
    }

    /** A copy with another depth multiplier. */
    public Scaling withDepth(double newDepth) {
        return new Scaling(width, newDepth, resolution, dropout);
    }

    /** A copy with another dropout rate. */
    public Scaling withDropout(double newDropout) {
        return new Scaling(width, depth, resolution, newDropout);
    }
}
