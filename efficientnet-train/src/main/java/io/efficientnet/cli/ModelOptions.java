package io.efficientnet.cli;

import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.model.Padding;
import picocli.CommandLine.Option;

import java.util.Locale;

/** The options that choose a network shape, shared by the commands that build one. */
public final class ModelOptions {

    @Option(names = "--variant", defaultValue = "b0", description = "b0..b7 (default: ${DEFAULT-VALUE})")
    String variant;

    @Option(names = "--phi", description = "compound coefficient instead of a variant, e.g. -1 or 2.5")
    Double phi;

    @Option(names = "--resolution", description = "square input resolution (default: the variant's)")
    Integer resolution;

    @Option(names = "--num-classes", defaultValue = "1000", description = "classifier outputs (default: ${DEFAULT-VALUE})")
    int numClasses;

    @Option(names = "--no-top", description = "no classifier head (global average pooling output)")
    boolean noTop;

    @Option(names = "--padding", defaultValue = "same",
            description = "same (TensorFlow/Keras weights) or symmetric (PyTorch/torchvision weights) "
                    + "(default: ${DEFAULT-VALUE})")
    String padding;

    /** A builder configured from the options; throws IllegalArgumentException with the allowed values. */
    public EfficientNet.Builder builder() {
        EfficientNet.Builder b = EfficientNet.builder();
        if (phi != null) {
            b.phi(phi);
        } else {
            b.variant(variant);
        }
        if (resolution != null) {
            b.resolution(resolution);
        }
        if (numClasses < 1) {
            throw new IllegalArgumentException("--num-classes must be >= 1, got " + numClasses);
        }
        Padding p = switch (padding.toLowerCase(Locale.ROOT)) {
            case "same" -> Padding.SAME;
            case "symmetric" -> Padding.SYMMETRIC;
            default -> throw new IllegalArgumentException("--padding must be same or symmetric, got '" + padding + "'");
        };
        return b.numClasses(numClasses).includeTop(!noTop).padding(p);
    }
}
