package io.efficientnet.bench;

/**
 * What to measure.
 *
 * @param mode         inference or training steps
 * @param batchSize    images per iteration
 * @param warmup       untimed iterations first (JIT, workspaces, oneDNN primitive caches)
 * @param iterations   timed iterations
 * @param seed         seed of the synthetic data (and of ND4J's RNG, e.g. dropout masks)
 * @param learningRate SGD learning rate for training steps
 * @param profile      also time each layer type, in extra iterations after the timed ones
 */
public record BenchmarkSpec(BenchmarkMode mode, int batchSize, int warmup, int iterations, long seed,
                            double learningRate, boolean profile) {

    public BenchmarkSpec {
        if (mode == null) {
            throw new IllegalArgumentException("mode must be inference or train");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        if (warmup < 0) {
            throw new IllegalArgumentException("warm-up iterations must be >= 0, got " + warmup);
        }
        if (iterations < 1) {
            throw new IllegalArgumentException("iterations must be >= 1, got " + iterations);
        }
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("learning rate must be a finite number > 0, got " + learningRate);
        }
    }
}
