package io.efficientnet.core.weights;

import io.efficientnet.core.model.Architecture;

import java.util.Collection;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Maps PyTorch EfficientNet tensor names (torchvision's or timm's) to this project's Keras layer names and weight
 * roles, with the layout change each needs. Stages are numbered 1–7 and repeats a, b, c, … as in Keras.
 */
final class PyTorchNames {

    /** How a PyTorch tensor is rearranged into Keras' layout. */
    enum Layout {
        /** {@code [out,in,kH,kW]} → {@code [kH,kW,in,out]}. */
        CONV(2, 3, 1, 0),
        /** {@code [C,1,kH,kW]} → {@code [kH,kW,C,1]}. */
        DEPTHWISE(2, 3, 0, 1),
        /** {@code [out,in]} → {@code [in,out]}. */
        DENSE(1, 0),
        /** As is (biases, batch-norm vectors). */
        VECTOR;

        /** Source dimension of each destination dimension; empty = no change. */
        final int[] permutation;

        Layout(int... permutation) {
            this.permutation = permutation;
        }
    }

    /** Where a tensor goes: the Keras layer, its role there, and the layout change. */
    record Slot(String layer, String role, Layout layout) {
    }

    /** Tensors that are not weights ({@code num_batches_tracked}): read and left out. */
    static final Slot IGNORED = new Slot("", "", Layout.VECTOR);

    private static final Pattern TV_BLOCK =
            Pattern.compile("features\\.([1-7])\\.(\\d{1,3})\\.block\\.(\\d)\\.(0|1|fc1|fc2)\\.(\\w+)");
    private static final Pattern TIMM_BLOCK = Pattern.compile("blocks\\.([0-6])\\.(\\d{1,3})\\."
            + "(conv_pw|conv_dw|conv_pwl|bn1|bn2|bn3|se\\.conv_reduce|se\\.conv_expand)\\.(\\w+)");
    private static final Map<String, String> BN_ROLES = Map.of("weight", "gamma", "bias", "beta",
            "running_mean", "moving_mean", "running_var", "moving_variance");

    private final boolean timm;
    /** Blocks with an expansion conv: torchvision {@code features.S.R}, timm {@code blocks.S.R}. */
    private final Set<String> expanded = new HashSet<>();

    PyTorchNames(boolean timmNames, Collection<String> names) {
        this.timm = timmNames;
        Pattern marker = timm ? Pattern.compile("(blocks\\.\\d+\\.\\d+)\\.conv_pwl\\..*")
                : Pattern.compile("(features\\.\\d+\\.\\d+)\\.block\\.3\\..*");
        for (String n : names) {
            Matcher m = marker.matcher(n);
            if (m.matches()) {
                expanded.add(m.group(1));
            }
        }
    }

    /** Whether the names look like timm's ({@code conv_stem.weight}), torchvision's, or neither (null). */
    static Boolean timmNames(Collection<String> names) {
        if (names.contains("conv_stem.weight")) {
            return true;
        }
        return names.contains("features.0.0.weight") ? false : null;
    }

    /** The tensor's slot, {@link #IGNORED}, or null if the name is not part of an EfficientNet-B. */
    Slot slot(String name) {
        if (name.endsWith(".num_batches_tracked")) {
            return IGNORED;
        }
        return timm ? timmSlot(name) : torchvisionSlot(name);
    }

    /** The PyTorch module a tensor belongs to (its name without the last component). */
    static String module(String name) {
        int dot = name.lastIndexOf('.');
        return dot < 0 ? name : name.substring(0, dot);
    }

    private Slot torchvisionSlot(String name) {
        String param = name.substring(name.lastIndexOf('.') + 1);
        Slot fixed = switch (module(name)) {
            case "features.0.0" -> conv("stem_conv", param, false);
            case "features.0.1" -> bn("stem_bn", param);
            case "features.8.0" -> conv("top_conv", param, false);
            case "features.8.1" -> bn("top_bn", param);
            case "classifier.1" -> dense(param);
            default -> null;
        };
        if (fixed != null) {
            return fixed;
        }
        Matcher m = TV_BLOCK.matcher(name);
        if (!m.matches()) {
            return null;
        }
        String block = block(m.group(1), m.group(2), 0);
        int part = Integer.parseInt(m.group(3));
        String[] parts = expanded.contains("features." + m.group(1) + "." + m.group(2))
                ? new String[] {"expand", "dw", "se", "project"} : new String[] {"dw", "se", "project"};
        if (part >= parts.length) {
            return null;
        }
        String sub = m.group(4);
        return switch (parts[part] + "/" + sub) {
            case "expand/0" -> conv(block + "_expand_conv", m.group(5), false);
            case "expand/1" -> bn(block + "_expand_bn", m.group(5));
            case "dw/0" -> conv(block + "_dwconv", m.group(5), true);
            case "dw/1" -> bn(block + "_bn", m.group(5));
            case "se/fc1" -> conv(block + "_se_reduce", m.group(5), false);
            case "se/fc2" -> conv(block + "_se_expand", m.group(5), false);
            case "project/0" -> conv(block + "_project_conv", m.group(5), false);
            case "project/1" -> bn(block + "_project_bn", m.group(5));
            default -> null;
        };
    }

    private Slot timmSlot(String name) {
        String param = name.substring(name.lastIndexOf('.') + 1);
        Slot fixed = switch (module(name)) {
            case "conv_stem" -> conv("stem_conv", param, false);
            case "bn1" -> bn("stem_bn", param);
            case "conv_head" -> conv("top_conv", param, false);
            case "bn2" -> bn("top_bn", param);
            case "classifier" -> dense(param);
            default -> null;
        };
        if (fixed != null) {
            return fixed;
        }
        Matcher m = TIMM_BLOCK.matcher(name);
        if (!m.matches()) {
            return null;
        }
        String block = block(m.group(1), m.group(2), 1);
        boolean inverted = expanded.contains("blocks." + m.group(1) + "." + m.group(2));
        String p = m.group(4);
        return switch (m.group(3)) {
            case "conv_pw" -> conv(block + (inverted ? "_expand_conv" : "_project_conv"), p, false);
            case "bn1" -> bn(block + (inverted ? "_expand_bn" : "_bn"), p);
            case "conv_dw" -> conv(block + "_dwconv", p, true);
            case "bn2" -> bn(block + (inverted ? "_bn" : "_project_bn"), p);
            case "se.conv_reduce" -> conv(block + "_se_reduce", p, false);
            case "se.conv_expand" -> conv(block + "_se_expand", p, false);
            case "conv_pwl" -> inverted ? conv(block + "_project_conv", p, false) : null;
            case "bn3" -> inverted ? bn(block + "_project_bn", p) : null;
            default -> null;
        };
    }

    /** {@code block<stage><letter>}; {@code stageOffset} turns timm's 0-based stages into Keras' 1-based ones. */
    private static String block(String stage, String repeat, int stageOffset) {
        return "block" + (Integer.parseInt(stage) + stageOffset) + Architecture.blockLetter(Integer.parseInt(repeat));
    }

    private static Slot conv(String layer, String param, boolean depthwise) {
        return switch (param) {
            case "weight" -> new Slot(layer, depthwise ? "depthwise_kernel" : "kernel",
                    depthwise ? Layout.DEPTHWISE : Layout.CONV);
            case "bias" -> new Slot(layer, "bias", Layout.VECTOR);
            default -> null;
        };
    }

    private static Slot bn(String layer, String param) {
        String role = BN_ROLES.get(param);
        return role == null ? null : new Slot(layer, role, Layout.VECTOR);
    }

    private static Slot dense(String param) {
        return switch (param) {
            case "weight" -> new Slot("predictions", "kernel", Layout.DENSE);
            case "bias" -> new Slot("predictions", "bias", Layout.VECTOR);
            default -> null;
        };
    }
}
