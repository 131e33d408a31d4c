package io.efficientnet.core.model;

import java.util.List;

/**
 * One stage of the baseline network B0 (a row of the paper's Table 1): {@code repeats} MBConv blocks of the same
 * kind. Only the first block of a stage changes the channel count and applies the stride.
 *
 * @param kernel        depthwise kernel size
 * @param repeats       number of blocks in the stage before depth scaling
 * @param inputFilters  channels entering the stage before width scaling
 * @param outputFilters channels leaving the stage before width scaling
 * @param expandRatio   expansion factor of the 1x1 expansion conv (1 = no expansion conv)
 * @param stride        stride of the first block's depthwise conv
 * @param seRatio       squeeze-and-excitation ratio, relative to the block's input channels
 */
public record BlockSpec(int kernel, int repeats, int inputFilters, int outputFilters, int expandRatio, int stride,
                        double seRatio) {

    /** The baseline network B0: seven stages of MBConv blocks. */
    public static final List<BlockSpec> BASELINE = List.of(
            new BlockSpec(3, 1, 32, 16, 1, 1, 0.25),
            new BlockSpec(3, 2, 16, 24, 6, 2, 0.25),
            new BlockSpec(5, 2, 24, 40, 6, 2, 0.25),
            new BlockSpec(3, 3, 40, 80, 6, 2, 0.25),
            new BlockSpec(5, 3, 80, 112, 6, 1, 0.25),
            new BlockSpec(5, 4, 112, 192, 6, 2, 0.25),
            new BlockSpec(3, 1, 192, 320, 6, 1, 0.25));

    /** Stem channels of B0 before width scaling. */
    public static final int STEM_FILTERS = 32;
    /** Head (top conv) channels of B0 before width scaling. */
    public static final int TOP_FILTERS = 1280;
}
