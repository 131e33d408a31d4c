package io.efficientnet.train.config;

/**
 * Exponential moving average of the weights ({@code ema:} in the YAML). Evaluation and saved models use the average.
 *
 * @param decay decay per step (0.9999 in the reference; 0 turns the average off). Early steps use
 *              {@code min(decay, (1 + n) / (10 + n))} as TensorFlow's {@code num_updates} does.
 */
public record EmaConfig(double decay) {

    public EmaConfig {
        ConfigChecks.range("ema.decay", decay, 0, 1, false);
    }

    /** Whether the average is kept. */
    public boolean enabled() {
        return decay > 0;
    }
}
