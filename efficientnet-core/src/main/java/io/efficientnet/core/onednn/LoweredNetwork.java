package io.efficientnet.core.onednn;

import java.util.List;

/**
 * A network as the oneDNN engine runs it.
 *
 * @param input         the network input's name (the tensor the first op reads)
 * @param inputChannels channels of the NCHW input
 * @param ops           the ops in execution order
 * @param outputs       the tensors that are the network's outputs, in the network's output order
 */
public record LoweredNetwork(String input, long inputChannels, List<LoweredOp> ops, List<String> outputs) {

    public LoweredNetwork {
        ops = List.copyOf(ops);
        outputs = List.copyOf(outputs);
    }

    /** Number of ops of a type, e.g. {@code count(LoweredOp.Conv.class)}. */
    public long count(Class<? extends LoweredOp> type) {
        return ops.stream().filter(type::isInstance).count();
    }
}
