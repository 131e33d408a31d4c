package io.efficientnet.train.config;

import java.util.Set;

/**
 * The optimizer ({@code optimizer:} in the YAML).
 *
 * @param name        {@code rmsprop} (TensorFlow's RMSProp with momentum, the paper's), {@code sgd} (SGD with
 *                    Nesterov momentum, DL4J's {@code Nesterovs}) or {@code adam}
 * @param lrPer256    learning rate for a batch of 256; the run uses {@code lrPer256 · batchSize / 256}
 * @param momentum    momentum (rmsprop, sgd); Adam's β1
 * @param rmsDecay    RMSProp's decay ρ of the squared-gradient average (Adam keeps β2 = 0.999)
 * @param epsilon     ε (inside the square root for rmsprop, as in TensorFlow)
 * @param weightDecay L2 coefficient on convolution and dense kernels (the loss gains λ/2·‖w‖²)
 */
public record OptimizerConfig(String name, double lrPer256, double momentum, double rmsDecay, double epsilon,
                              double weightDecay) {

    /** Names accepted for {@code optimizer.name}. */
    public static final Set<String> NAMES = Set.of("rmsprop", "sgd", "adam");

    public OptimizerConfig {
        ConfigChecks.oneOf("optimizer.name", name, NAMES);
        ConfigChecks.positive("optimizer.lr_per_256", lrPer256);
        ConfigChecks.range("optimizer.momentum", momentum, 0, 1, false);
        ConfigChecks.range("optimizer.rms_decay", rmsDecay, 0, 1, false);
        ConfigChecks.positive("optimizer.epsilon", epsilon);
        ConfigChecks.range("optimizer.weight_decay", weightDecay, 0, 1, false);
    }

    /** The learning rate for {@code batchSize} images per step (linear scaling rule). */
    public double learningRate(int batchSize) {
        return lrPer256 * batchSize / 256.0;
    }
}
