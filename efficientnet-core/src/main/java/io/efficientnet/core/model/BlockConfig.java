package io.efficientnet.core.model;

/**
 * One concrete MBConv block after scaling.
 *
 * @param name          Keras-style name prefix, e.g. {@code block2a}
 * @param stage         stage number, 1-based
 * @param inputFilters  channels entering the block
 * @param outputFilters channels leaving the block
 * @param expandRatio   expansion factor (1 = no expansion conv)
 * @param kernel        depthwise kernel size
 * @param stride        depthwise stride
 * @param seRatio       squeeze-and-excitation ratio relative to {@code inputFilters} (0 = no SE)
 * @param dropPathRate  probability that the residual branch is dropped for a sample while training
 */
public record BlockConfig(String name, int stage, int inputFilters, int outputFilters, int expandRatio, int kernel,
                          int stride, double seRatio, double dropPathRate) {

    /** Channels after the expansion conv (= input channels when there is none). */
    public int expandedFilters() {
        return inputFilters * expandRatio;
    }

    /** Whether the block has a squeeze-and-excitation branch. */
    public boolean hasSqueezeExcite() {
        return seRatio > 0 && seRatio <= 1;
    }

    /** Channels of the squeeze-and-excitation bottleneck: {@code max(1, int(inputFilters·seRatio))}. */
    public int squeezeFilters() {
        return Math.max(1, (int) (inputFilters * seRatio));
    }

    /** Whether the block adds its input to its output (stride 1 and equal channel counts). */
    public boolean hasSkip() {
        return stride == 1 && inputFilters == outputFilters;
    }
}
