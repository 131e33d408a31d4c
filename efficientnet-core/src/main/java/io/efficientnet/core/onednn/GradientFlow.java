package io.efficientnet.core.onednn;

import java.util.HashSet;
import java.util.Set;

/**
 * Which tensors of a network lowered for training need a gradient: the outputs of trainable ops (a convolution,
 * batch norm or dense layer that is not frozen) and of every op reading such a tensor. Other ops (a frozen prefix
 * and what reads only from it) get no backward steps, and no op computes the gradient of an input that needs none.
 */
final class GradientFlow {

    private final Set<String> needed = new HashSet<>();

    private GradientFlow(LoweredNetwork net) {
        for (LoweredOp op : net.ops()) {
            if (trainable(op, net.frozen()) || op.inputs().stream().anyMatch(needed::contains)) {
                needed.add(op.output());
            }
        }
    }

    static GradientFlow of(LoweredNetwork net) {
        return new GradientFlow(net);
    }

    /** Whether the backward pass needs {@code tensor}'s gradient (never for the network input). */
    boolean needs(String tensor) {
        return needed.contains(tensor);
    }

    /** Whether {@code op} has parameters that train. */
    static boolean trainable(LoweredOp op, Set<String> frozen) {
        return (op instanceof LoweredOp.Conv || op instanceof LoweredOp.BatchNorm || op instanceof LoweredOp.Dense)
                && !frozen.contains(op.name());
    }
}
