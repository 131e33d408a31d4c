package io.efficientnet.core.weights;

import io.efficientnet.core.model.Padding;
import io.efficientnet.core.model.Variant;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Where PyTorch EfficientNet weights come from: the naming of their tensors and the settings the network needs to
 * reproduce them. timm's {@code tf_efficientnet_bN} (ported TensorFlow weights) names its tensors like timm's
 * {@code efficientnet_bN}, so a file alone cannot tell the two apart.
 */
public enum PyTorchFamily {
    /**
     * torchvision's {@code efficientnet_bN}: {@code features.*}, {@code classifier.1.*}; batch-norm ε 1e-5, but 1e-3
     * for B5–B7 (torchvision builds those with ε 1e-3).
     */
    TORCHVISION("torchvision", Padding.SYMMETRIC, "1e-5"),
    /** timm's {@code efficientnet_bN}: {@code conv_stem}, {@code blocks.*}, {@code conv_head}, {@code classifier}. */
    TIMM("timm", Padding.SYMMETRIC, "1e-5"),
    /** timm's {@code tf_efficientnet_bN}: timm's names, TensorFlow "SAME" padding and batch-norm ε 1e-3. */
    TIMM_TF("timm-tf", Padding.SAME, "1e-3");

    private final String id;
    private final Padding padding;
    private final String epsilon;

    PyTorchFamily(String id, Padding padding, String epsilon) {
        this.id = id;
        this.padding = padding;
        this.epsilon = epsilon;
    }

    /** The name used on the command line: {@code torchvision}, {@code timm} or {@code timm-tf}. */
    public String id() {
        return id;
    }

    /** The padding the network must use. */
    public Padding padding() {
        return padding;
    }

    /** The batch-norm ε the network must use for {@code variant} (null: not one of B0–B7). */
    public double batchNormEpsilon(Variant variant) {
        return Double.parseDouble(epsilon(variant));
    }

    private String epsilon(Variant variant) {
        return this == TORCHVISION && variant != null && variant.compareTo(Variant.B5) >= 0 ? "1e-3" : epsilon;
    }

    /** Whether tensors are named like timm's models (else like torchvision's). */
    public boolean timmNames() {
        return this != TORCHVISION;
    }

    /** E.g. {@code symmetric padding, batch-norm eps 1e-5}, for {@code variant} (null: not one of B0–B7). */
    public String settings(Variant variant) {
        return (padding == Padding.SAME ? "TF-SAME" : "symmetric") + " padding, batch-norm eps " + epsilon(variant);
    }

    /**
     * Parses {@link #id()} (any case; {@code timm_tf} is accepted too).
     *
     * @throws IllegalArgumentException naming the allowed values
     */
    public static PyTorchFamily parse(String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        for (PyTorchFamily f : values()) {
            if (f.id.equals(t)) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown PyTorch weight family '" + text + "'; allowed: "
                + Arrays.stream(values()).map(PyTorchFamily::id).collect(Collectors.joining(", ")));
    }
}
