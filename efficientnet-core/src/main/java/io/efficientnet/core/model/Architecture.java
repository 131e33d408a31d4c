package io.efficientnet.core.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The concrete network described as data: the baseline table expanded by a {@link Scaling}. All channel and repeat
 * rounding happens here.
 *
 * @param scaling      the scaling coefficients used
 * @param height       input height in pixels
 * @param width        input width in pixels
 * @param channels     input channels
 * @param stemFilters  channels of the stem conv
 * @param blocks       every MBConv block in order
 * @param topFilters   channels of the 1x1 head conv
 */
public record Architecture(Scaling scaling, int height, int width, int channels, int stemFilters,
                           List<BlockConfig> blocks, int topFilters) {

    /** Channel counts are rounded to multiples of this. */
    public static final int DIVISOR = 8;

    public Architecture {
        blocks = List.copyOf(blocks);
    }

    /**
     * Expands the baseline table by {@code scaling}.
     *
     * @param scaling      width/depth multipliers
     * @param height       input height (at least 32)
     * @param width        input width (at least 32)
     * @param channels     input channels (at least 1)
     * @param dropPathRate drop-path rate of the last block; block b of N gets {@code dropPathRate·b/N}
     */
    public static Architecture of(Scaling scaling, int height, int width, int channels, double dropPathRate) {
        if (height < 32 || width < 32) {
            throw new IllegalArgumentException("input must be at least 32x32 pixels (the network downsamples 32x), got "
                    + height + "x" + width);
        }
        if (channels < 1) {
            throw new IllegalArgumentException("input channels must be >= 1, got " + channels);
        }
        if (!(dropPathRate >= 0 && dropPathRate < 1)) {
            throw new IllegalArgumentException("drop-path rate must be in [0, 1), got " + dropPathRate);
        }
        int total = 0;
        for (BlockSpec spec : BlockSpec.BASELINE) {
            total += roundRepeats(spec.repeats(), scaling.depth());
        }
        List<BlockConfig> blocks = new ArrayList<>(total);
        int globalIndex = 0;
        for (int s = 0; s < BlockSpec.BASELINE.size(); s++) {
            BlockSpec spec = BlockSpec.BASELINE.get(s);
            int in = roundFilters(spec.inputFilters(), scaling.width());
            int out = roundFilters(spec.outputFilters(), scaling.width());
            int repeats = roundRepeats(spec.repeats(), scaling.depth());
            for (int r = 0; r < repeats; r++) {
                String name = "block" + (s + 1) + blockLetter(r);
                blocks.add(new BlockConfig(name, s + 1, r == 0 ? in : out, out, spec.expandRatio(), spec.kernel(),
                        r == 0 ? spec.stride() : 1, spec.seRatio(), dropPathRate * globalIndex / total));
                globalIndex++;
            }
        }
        return new Architecture(scaling, height, width, channels, roundFilters(BlockSpec.STEM_FILTERS, scaling.width()),
                Collections.unmodifiableList(blocks), roundFilters(BlockSpec.TOP_FILTERS, scaling.width()));
    }

    /** Channels after width scaling: nearest multiple of 8 (at least 8), bumped up if it lost more than 10%. */
    public static int roundFilters(int filters, double widthMultiplier) {
        double scaled = filters * widthMultiplier;
        int rounded = Math.max(DIVISOR, (int) (scaled + DIVISOR / 2.0) / DIVISOR * DIVISOR);
        if (rounded < 0.9 * scaled) {
            rounded += DIVISOR;
        }
        return rounded;
    }

    /** Repeats after depth scaling: {@code ceil(depth·repeats)}. */
    public static int roundRepeats(int repeats, double depthMultiplier) {
        return (int) Math.ceil(depthMultiplier * repeats);
    }

    /** Letters a, b, …, z, then aa, ab, … for very deep networks. */
    public static String blockLetter(int index) {
        StringBuilder sb = new StringBuilder();
        int i = index;
        do {
            sb.insert(0, (char) ('a' + i % 26));
            i = i / 26 - 1;
        } while (i >= 0);
        return sb.toString();
    }

    /** Output size of a stride-s layer with TF "SAME" (or symmetric (k−1)/2) padding. */
    public static int outputSize(int size, int stride) {
        return (size + stride - 1) / stride;
    }

    /** Total number of MBConv blocks. */
    public int blockCount() {
        return blocks.size();
    }
}
