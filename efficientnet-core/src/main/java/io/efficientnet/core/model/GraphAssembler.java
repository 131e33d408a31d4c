package io.efficientnet.core.model;

import io.efficientnet.core.layers.ChannelScaleVertex;
import io.efficientnet.core.layers.DropPath;
import io.efficientnet.core.layers.FastBatchNormalization;
import io.efficientnet.core.layers.FastConvolution2D;
import io.efficientnet.core.layers.FastDepthwiseConvolution2D;
import io.efficientnet.core.layers.FastGlobalPooling;
import io.efficientnet.core.layers.ReferenceWeightInit;
import io.efficientnet.core.layers.StableSwish;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns an {@link Architecture} and {@link NetworkOptions} into a DL4J {@link ComputationGraphConfiguration} whose
 * layer names follow Keras' {@code efficientnet.py} ({@code stem_conv}, {@code block2a_expand_conv}, …,
 * {@code top_conv}, {@code predictions}).
 */
public final class GraphAssembler {

    /** Name of the graph's input. */
    public static final String INPUT = "input";
    /** Feature strides exposed by the multi-scale option. */
    public static final int[] FEATURE_STRIDES = {2, 4, 8, 16, 32};

    private static final String ACTIVATION_SUFFIX = "_activation";

    private static final ReferenceWeightInit CONV_INIT = new ReferenceWeightInit(ReferenceWeightInit.Kind.CONV);
    private static final ReferenceWeightInit DEPTHWISE_INIT =
            new ReferenceWeightInit(ReferenceWeightInit.Kind.DEPTHWISE);
    private static final ReferenceWeightInit DENSE_INIT = new ReferenceWeightInit(ReferenceWeightInit.Kind.DENSE);
    /** Swish with a float32-safe derivative (DL4J's own turns NaN for inputs above ~44). */
    private static final StableSwish SWISH = new StableSwish();

    private final Architecture arch;
    private final NetworkOptions options;
    private final ComputationGraphConfiguration.GraphBuilder graph;

    private GraphAssembler(Architecture arch, NetworkOptions options) {
        this.arch = arch;
        this.options = options;
        this.graph = new NeuralNetConfiguration.Builder()
                .seed(options.seed())
                .updater(options.updater())
                .l2(options.weightDecay())
                .activation(Activation.IDENTITY)
                .convolutionMode(options.padding() == Padding.SAME ? ConvolutionMode.Same : ConvolutionMode.Truncate)
                .trainingWorkspaceMode(options.workspaceMode())
                .inferenceWorkspaceMode(options.workspaceMode())
                .cacheMode(options.cacheMode())
                .dataType(options.dataType())
                .graphBuilder()
                .addInputs(INPUT)
                .setInputTypes(InputType.convolutional(arch.height(), arch.width(), arch.channels()));
    }

    /** Builds the graph configuration. */
    public static ComputationGraphConfiguration assemble(Architecture arch, NetworkOptions options) {
        return new GraphAssembler(arch, options).build();
    }

    /** Names of the multi-scale feature outputs (last block at each stride 2, 4, 8, 16, 32). */
    public static List<String> featureOutputNames(Architecture arch) {
        List<String> names = new ArrayList<>();
        int stride = 2; // after the stem
        for (int i = 0; i < arch.blocks().size(); i++) {
            BlockConfig b = arch.blocks().get(i);
            stride *= b.stride();
            boolean lastAtStride = i + 1 == arch.blocks().size()
                    || arch.blocks().get(i + 1).stride() != 1;
            if (lastAtStride && contains(FEATURE_STRIDES, stride)) {
                names.add(blockOutputName(b));
            }
        }
        return names;
    }

    /** Name of the vertex that holds a block's output. */
    public static String blockOutputName(BlockConfig b) {
        return b.hasSkip() ? b.name() + "_add" : b.name() + "_project_bn";
    }

    /**
     * The Keras layer whose weights a layer of this graph holds: its own name, except for a fused batch norm + swish
     * ({@code block1a_activation} holds {@code block1a_bn}'s weights).
     */
    public static String kerasWeightName(org.deeplearning4j.nn.conf.layers.Layer layer) {
        String name = layer.getLayerName();
        if (layer instanceof FastBatchNormalization f && f.isSwish() && name.endsWith(ACTIVATION_SUFFIX)) {
            return name.substring(0, name.length() - ACTIVATION_SUFFIX.length()) + "_bn";
        }
        return name;
    }

    /** Name of the graph's (single) output when not in multi-scale mode. */
    public static String outputName(NetworkOptions options) {
        if (options.includeTop()) {
            return "predictions";
        }
        return switch (options.pooling()) {
            case AVG -> "avg_pool";
            case MAX -> "max_pool";
            case NONE -> "top_activation";
        };
    }

    private static boolean contains(int[] values, int v) {
        for (int x : values) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }

    private ComputationGraphConfiguration build() {
        String x = conv("stem_conv", INPUT, arch.channels(), arch.stemFilters(), 3, 2);
        x = batchNormSwish("stem", x, arch.stemFilters());
        for (BlockConfig b : arch.blocks()) {
            x = block(b, x);
        }
        if (options.multiScaleFeatures()) {
            graph.setOutputs(featureOutputNames(arch).toArray(new String[0]));
            return graph.build();
        }
        x = conv("top_conv", x, arch.blocks().get(arch.blocks().size() - 1).outputFilters(), arch.topFilters(), 1, 1);
        x = batchNormSwish("top", x, arch.topFilters());
        if (options.includeTop()) {
            graph.addLayer("avg_pool", new FastGlobalPooling(PoolingType.AVG, true), x);
            x = "avg_pool";
            if (options.dropoutRate() > 0) {
                graph.addLayer("top_dropout", new DropoutLayer.Builder()
                        .dropOut(new Dropout(1.0 - options.dropoutRate())).build(), x);
                x = "top_dropout";
            }
            graph.addLayer("predictions", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                    .nIn(arch.topFilters()).nOut(options.numClasses())
                    .activation(Activation.SOFTMAX).weightInit(DENSE_INIT).build(), x);
            graph.setOutputs("predictions");
        } else if (options.pooling() == Pooling.NONE) {
            graph.setOutputs(x);
        } else {
            String name = outputName(options);
            PoolingType type = options.pooling() == Pooling.AVG ? PoolingType.AVG : PoolingType.MAX;
            graph.addLayer(name, new FastGlobalPooling(type, true), x);
            graph.setOutputs(name);
        }
        return graph.build();
    }

    private String block(BlockConfig b, String input) {
        String p = b.name();
        String x = input;
        int expanded = b.expandedFilters();
        if (b.expandRatio() != 1) {
            x = conv(p + "_expand_conv", x, b.inputFilters(), expanded, 1, 1);
            x = batchNormSwish(p + "_expand", x, expanded);
        }
        DepthwiseConvolution2D.Builder dw = withPadding(new DepthwiseConvolution2D.Builder(b.kernel(), b.kernel()),
                b.kernel()).stride(b.stride(), b.stride()).depthMultiplier(1).nIn(expanded).nOut(expanded)
                .hasBias(false).weightInit(DEPTHWISE_INIT);
        graph.addLayer(p + "_dwconv", options.fastConvolutions() ? new FastDepthwiseConvolution2D(dw) : dw.build(), x);
        x = batchNormSwish(p, p + "_dwconv", expanded);
        if (b.hasSqueezeExcite()) {
            int squeezed = b.squeezeFilters();
            graph.addLayer(p + "_se_squeeze", new FastGlobalPooling(PoolingType.AVG, false), x);
            graph.addLayer(p + "_se_reduce", new ConvolutionLayer.Builder(1, 1).nIn(expanded).nOut(squeezed)
                    .hasBias(true).activation(SWISH).weightInit(CONV_INIT).build(), p + "_se_squeeze");
            graph.addLayer(p + "_se_expand", new ConvolutionLayer.Builder(1, 1).nIn(squeezed).nOut(expanded)
                    .hasBias(true).activation(Activation.SIGMOID).weightInit(CONV_INIT).build(), p + "_se_reduce");
            graph.addVertex(p + "_se_excite", new ChannelScaleVertex(), x, p + "_se_expand");
            x = p + "_se_excite";
        }
        x = conv(p + "_project_conv", x, expanded, b.outputFilters(), 1, 1);
        x = batchNorm(p + "_project_bn", x, b.outputFilters());
        if (b.hasSkip()) {
            graph.addLayer(p + "_drop", new DropoutLayer.Builder().dropOut(new DropPath(b.dropPathRate())).build(), x);
            graph.addVertex(p + "_add", new ElementWiseVertex(ElementWiseVertex.Op.Add), p + "_drop", input);
            x = p + "_add";
        }
        return x;
    }

    private <B extends ConvolutionLayer.BaseConvBuilder<B>> B withPadding(B builder, int kernel) {
        if (options.padding() == Padding.SYMMETRIC) {
            builder.padding((kernel - 1) / 2, (kernel - 1) / 2);
        }
        return builder;
    }

    private String conv(String name, String input, int in, int out, int kernel, int stride) {
        ConvolutionLayer.Builder conv = withPadding(new ConvolutionLayer.Builder(kernel, kernel), kernel)
                .stride(stride, stride).nIn(in).nOut(out).hasBias(false).weightInit(CONV_INIT);
        graph.addLayer(name, options.fastConvolutions() ? new FastConvolution2D(conv) : conv.build(), input);
        return name;
    }

    private String batchNorm(String name, String input, int channels) {
        BatchNormalization bn = options.fastBatchNorm()
                ? new FastBatchNormalization(channels, options.batchNormEpsilon(), options.batchNormMomentum())
                : new BatchNormalization.Builder().nIn(channels).nOut(channels)
                        .eps(options.batchNormEpsilon()).decay(options.batchNormMomentum()).build();
        graph.addLayer(name, bn, input);
        return name;
    }

    /**
     * {@code prefix_bn} then {@code prefix_activation} (Keras' layout), or, with fused swish, one
     * {@code prefix_activation} layer computing both.
     */
    private String batchNormSwish(String prefix, String input, int channels) {
        if (options.fastBatchNorm() && options.fusedSwish()) {
            String name = prefix + ACTIVATION_SUFFIX;
            graph.addLayer(name, new FastBatchNormalization(channels, options.batchNormEpsilon(),
                    options.batchNormMomentum(), true), input);
            return name;
        }
        return swish(prefix + ACTIVATION_SUFFIX, batchNorm(prefix + "_bn", input, channels));
    }

    private String swish(String name, String input) {
        graph.addLayer(name, new ActivationLayer.Builder().activation(SWISH).build(), input);
        return name;
    }
}
