package io.efficientnet.core.onednn;

import java.util.List;
import java.util.Set;

/**
 * A network as the oneDNN engine runs it.
 *
 * @param input         the network input's name (the tensor the first op reads)
 * @param inputChannels channels of the NCHW input
 * @param ops           the ops in execution order
 * @param outputs       the tensors that are the network's outputs, in the network's output order
 * @param frozen        names of the ops lowered for training from frozen layers or vertices (transfer learning):
 *                      they run as at inference and their parameters do not train; empty when lowered for inference
 */
public record LoweredNetwork(String input, long inputChannels, List<LoweredOp> ops, List<String> outputs,
                             Set<String> frozen) {

    public LoweredNetwork {
        ops = List.copyOf(ops);
        outputs = List.copyOf(outputs);
        frozen = Set.copyOf(frozen);
    }

    /** Number of ops of a type, e.g. {@code count(LoweredOp.Conv.class)}. */
    public long count(Class<? extends LoweredOp> type) {
        return ops.stream().filter(type::isInstance).count();
    }
}
