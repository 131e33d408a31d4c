package io.efficientnet.core.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parameter and multiply-accumulate counts per stage, computed from the block list (no weights are allocated).
 * MACs count convolutions (including depthwise and squeeze-and-excitation) and the dense classifier; batch norm,
 * activations, pooling and adds are not counted.
 *
 * @param name               a label for the model, e.g. {@code b0}
 * @param height             input height
 * @param width              input width
 * @param stages             one row each for the stem, the seven stages and the head
 * @param trainableParams    parameters updated by training
 * @param nonTrainableParams batch-norm moving means and variances
 * @param macs               multiply-accumulates for one image
 */
public record ModelSummary(String name, int height, int width, List<Stage> stages, long trainableParams,
                           long nonTrainableParams, long macs) {

    /**
     * One row of the summary.
     *
     * @param name          {@code stem}, {@code stage1}…{@code stage7} or {@code head}
     * @param blocks        MBConv blocks in the stage (0 for stem and head)
     * @param kernel        kernel size of the stage's (depthwise) conv
     * @param stride        stride of the stage's first layer
     * @param inputFilters  channels in
     * @param outputFilters channels out
     * @param outputHeight  feature map height after the stage
     * @param outputWidth   feature map width after the stage
     * @param params        trainable parameters
     * @param macs          multiply-accumulates per image
     */
    public record Stage(String name, int blocks, int kernel, int stride, int inputFilters, int outputFilters,
                        int outputHeight, int outputWidth, long params, long macs) {
    }

    public ModelSummary {
        stages = List.copyOf(stages);
    }

    /** Computes the summary of {@code arch} with the head given by {@code options}. */
    public static ModelSummary of(String name, Architecture arch, NetworkOptions options) {
        Counter total = new Counter();
        List<Stage> rows = new ArrayList<>();
        int h = Architecture.outputSize(arch.height(), 2);
        int w = Architecture.outputSize(arch.width(), 2);
        Counter stem = new Counter();
        stem.conv(arch.channels(), arch.stemFilters(), 3, h, w);
        stem.batchNorm(arch.stemFilters());
        rows.add(new Stage("stem", 0, 3, 2, arch.channels(), arch.stemFilters(), h, w, stem.params, stem.macs));
        total.add(stem);

        int stage = 0;
        Counter current = null;
        BlockConfig first = null;
        int blocksInStage = 0;
        for (BlockConfig b : arch.blocks()) {
            if (b.stage() != stage) {
                if (current != null) {
                    rows.add(stageRow(first, blocksInStage, current, h, w));
                    total.add(current);
                }
                stage = b.stage();
                current = new Counter();
                first = b;
                blocksInStage = 0;
            }
            int e = b.expandedFilters();
            if (b.expandRatio() != 1) {
                current.conv(b.inputFilters(), e, 1, h, w);
                current.batchNorm(e);
            }
            h = Architecture.outputSize(h, b.stride());
            w = Architecture.outputSize(w, b.stride());
            current.depthwise(e, b.kernel(), h, w);
            current.batchNorm(e);
            if (b.hasSqueezeExcite()) {
                int s = b.squeezeFilters();
                current.dense(e, s);
                current.dense(s, e);
            }
            current.conv(e, b.outputFilters(), 1, h, w);
            current.batchNorm(b.outputFilters());
            blocksInStage++;
        }
        rows.add(stageRow(first, blocksInStage, current, h, w));
        total.add(current);

        if (!options.multiScaleFeatures()) {
            Counter head = new Counter();
            int lastFilters = arch.blocks().get(arch.blocks().size() - 1).outputFilters();
            head.conv(lastFilters, arch.topFilters(), 1, h, w);
            head.batchNorm(arch.topFilters());
            int out = arch.topFilters();
            if (options.includeTop()) {
                head.dense(arch.topFilters(), options.numClasses());
                out = options.numClasses();
            }
            rows.add(new Stage("head", 0, 1, 1, lastFilters, out, options.includeTop() ? 1 : h,
                    options.includeTop() ? 1 : w, head.params, head.macs));
            total.add(head);
        }
        return new ModelSummary(name, arch.height(), arch.width(), rows, total.params, total.stats, total.macs);
    }

    private static Stage stageRow(BlockConfig first, int blocks, Counter c, int h, int w) {
        return new Stage("stage" + first.stage(), blocks, first.kernel(), first.stride(), first.inputFilters(),
                first.outputFilters(), h, w, c.params, c.macs);
    }

    /** A fixed-width text table with totals. */
    public String toTable() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("EfficientNet %s, input %dx%d%n", name, height, width));
        sb.append(String.format("%-8s %6s %6s %6s %7s %7s %11s %12s %14s%n", "stage", "blocks", "kernel", "stride",
                "in", "out", "output", "params", "MACs"));
        for (Stage s : stages) {
            sb.append(String.format("%-8s %6s %6d %6d %7d %7d %11s %,12d %,14d%n", s.name(),
                    s.blocks() == 0 ? "-" : Integer.toString(s.blocks()), s.kernel(), s.stride(), s.inputFilters(),
                    s.outputFilters(), s.outputHeight() + "x" + s.outputWidth(), s.params(), s.macs()));
        }
        sb.append(String.format("trainable params:     %,d%n", trainableParams));
        sb.append(String.format("non-trainable params: %,d (batch-norm statistics)%n", nonTrainableParams));
        sb.append(String.format("MACs:                 %,d (%.3f G)%n", macs, macs / 1e9));
        return sb.toString();
    }

    /** The summary as nested maps/lists, ready for a JSON writer. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("variant", name);
        m.put("resolution", height == width ? (Object) height : List.of(height, width));
        m.put("height", height);
        m.put("width", width);
        m.put("trainableParams", trainableParams);
        m.put("nonTrainableParams", nonTrainableParams);
        m.put("macs", macs);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Stage s : stages) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("name", s.name());
            r.put("blocks", s.blocks());
            r.put("kernel", s.kernel());
            r.put("stride", s.stride());
            r.put("inputChannels", s.inputFilters());
            r.put("outputChannels", s.outputFilters());
            r.put("outputHeight", s.outputHeight());
            r.put("outputWidth", s.outputWidth());
            r.put("params", s.params());
            r.put("macs", s.macs());
            rows.add(r);
        }
        m.put("stages", rows);
        return m;
    }

    /** Running totals of trainable parameters, batch-norm statistics and MACs. */
    private static final class Counter {
        long params;
        long stats;
        long macs;

        void conv(int in, int out, int k, int outH, int outW) {
            params += (long) k * k * in * out;
            macs += (long) outH * outW * k * k * in * out;
        }

        void depthwise(int channels, int k, int outH, int outW) {
            params += (long) k * k * channels;
            macs += (long) outH * outW * k * k * channels;
        }

        /** A dense layer or a 1x1 conv on a 1x1 map, with bias. */
        void dense(int in, int out) {
            params += (long) in * out + out;
            macs += (long) in * out;
        }

        void batchNorm(int channels) {
            params += 2L * channels;
            stats += 2L * channels;
        }

        void add(Counter o) {
            params += o.params;
            stats += o.stats;
            macs += o.macs;
        }
    }
}
