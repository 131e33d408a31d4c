package io.efficientnet.core.onednn;

import java.util.List;

/**
 * One step of a network lowered for the oneDNN engine. Tensors are named by the DL4J vertex that first produced
 * them; every op reads tensors produced by earlier ops (or the network input) and writes one new tensor.
 */
public sealed interface LoweredOp {

    /** The DL4J vertex this op starts from (for messages). */
    String name();

    /** The tensor this op writes. */
    String output();

    /** The tensors this op reads, in order. */
    List<String> inputs();

    /**
     * A 2-D convolution, plain ({@code groups == 1}) or grouped/depthwise, with any batch norm that followed it
     * folded into {@code weights}/{@code bias}, then {@code activation}, then (if {@code addend} is set) the
     * element-wise sum with that tensor (a fused residual add).
     *
     * @param weights {@code [groups][out/groups][in/groups][kernelH][kernelW]}, c order (null when lowered for
     *                training: the weights are read from the network at every step)
     * @param bias    per output channel, or {@code null} (for training: non-null when the layer has a bias)
     * @param same    TensorFlow "SAME" padding (extra row/column at the bottom/right); otherwise {@code padH/padW}
     *                on each side, output truncated
     */
    record Conv(String name, String input, String output, long inChannels, long outChannels, int groups,
                int kernelH, int kernelW, int strideH, int strideW, boolean same, int padH, int padW,
                float[] weights, float[] bias, Eltwise activation, String addend) implements LoweredOp {

        @Override
        public List<String> inputs() {
            return addend == null ? List.of(input) : List.of(input, addend);
        }

        Conv withInput(String input) {
            return new Conv(name, input, output, inChannels, outChannels, groups, kernelH, kernelW, strideH, strideW,
                    same, padH, padW, weights, bias, activation, addend);
        }

        Conv withFolded(float[] weights, float[] bias) {
            return new Conv(name, input, output, inChannels, outChannels, groups, kernelH, kernelW, strideH, strideW,
                    same, padH, padW, weights, bias, activation, addend);
        }

        Conv withActivation(Eltwise activation) {
            return new Conv(name, input, output, inChannels, outChannels, groups, kernelH, kernelW, strideH, strideW,
                    same, padH, padW, weights, bias, activation, addend);
        }

        Conv withAddend(String addend) {
            return new Conv(name, input, output, inChannels, outChannels, groups, kernelH, kernelW, strideH, strideW,
                    same, padH, padW, weights, bias, activation, addend);
        }
    }

    /**
     * Batch normalisation with batch statistics, then swish when {@code swish}. Parameters and running statistics
     * belong to the DL4J layer {@code name}. Inference has none: {@link InferenceFusion} folds each into the
     * convolution before it.
     */
    record BatchNorm(String name, String input, String output, long channels, double epsilon, boolean swish)
            implements LoweredOp {

        @Override
        public List<String> inputs() {
            return List.of(input);
        }
    }

    /**
     * Inverted dropout (lowered for training only; inference lowers dropout as the identity): each element ({@code perExample} false)
     * or each example's whole tensor (drop-path, {@code perExample} true) is kept with probability {@code retain}
     * and scaled by {@code 1/retain}, else zeroed.
     */
    record Dropout(String name, String input, String output, double retain, boolean perExample)
            implements LoweredOp {

        @Override
        public List<String> inputs() {
            return List.of(input);
        }
    }

    /** Global average or max pooling to {@code [N, C, 1, 1]}; {@code collapse} reports it as {@code [N, C]}. */
    record GlobalPool(String name, String input, String output, boolean max, boolean collapse) implements LoweredOp {

        @Override
        public List<String> inputs() {
            return List.of(input);
        }
    }

    /** {@code input · scale} with {@code scale} of shape {@code [N, C, 1, 1]} broadcast over height and width. */
    record ChannelScale(String name, String input, String scale, String output) implements LoweredOp {

        @Override
        public List<String> inputs() {
            return List.of(input, scale);
        }
    }

    /** Element-wise {@code a + b} of two tensors of the same shape (a residual add that could not be fused). */
    record Add(String name, String a, String b, String output) implements LoweredOp {

        @Override
        public List<String> inputs() {
            return List.of(a, b);
        }
    }

    /** A stand-alone activation (one that could not be fused into the op before it). */
    record Activation(String name, String input, String output, Eltwise activation) implements LoweredOp {

        @Override
        public List<String> inputs() {
            return List.of(input);
        }
    }

    /**
     * A fully connected layer on {@code [N, in]} (or {@code [N, in, 1, 1]}), then {@code activation} or softmax
     * (for training: softmax with multi-class cross-entropy, the network's loss).
     *
     * @param weights {@code [out][in]}, c order (null when lowered for training)
     * @param bias    per output, or {@code null}
     */
    record Dense(String name, String input, String output, long in, long out, float[] weights, float[] bias,
                 Eltwise activation, boolean softmax) implements LoweredOp {

        @Override
        public List<String> inputs() {
            return List.of(input);
        }
    }
}
