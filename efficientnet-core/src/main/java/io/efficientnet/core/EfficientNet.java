package io.efficientnet.core;

import io.efficientnet.core.model.Architecture;
import io.efficientnet.core.model.GraphAssembler;
import io.efficientnet.core.model.ModelSummary;
import io.efficientnet.core.model.NetworkOptions;
import io.efficientnet.core.model.Padding;
import io.efficientnet.core.model.Pooling;
import io.efficientnet.core.model.Scaling;
import io.efficientnet.core.model.Variant;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.zoo.ModelMetaData;
import org.deeplearning4j.zoo.PretrainedType;
import org.deeplearning4j.zoo.ZooModel;
import org.deeplearning4j.zoo.ZooType;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;

import io.efficientnet.core.weights.ImageNetPreprocessing;
import io.efficientnet.core.weights.WeightSource;

import java.io.IOException;
import java.util.Locale;

/**
 * EfficientNet (Tan &amp; Le, 2019) as a DL4J zoo model: B0–B7 or any compound coefficient φ, built as a
 * {@link ComputationGraph} with Keras layer names.
 *
 * <pre>{@code
 * ComputationGraph b0 = EfficientNet.builder().variant(Variant.B0).build().init();
 * ComputationGraph small = EfficientNet.builder().phi(-1).numClasses(10).build().init();
 * ComputationGraph backbone = EfficientNet.builder().variant(Variant.B3).includeTop(false).pooling(Pooling.AVG)
 *         .build().init();
 * }</pre>
 *
 * The network expects NCHW RGB input normalised with ImageNet mean and standard deviation.
 */
public class EfficientNet extends ZooModel<ComputationGraph> {

    private final String name;
    private final Variant pretrainedVariant;
    private final WeightSource pretrainedSource;
    private final Scaling scaling;
    private final NetworkOptions options;
    private int channels;
    private int height;
    private int width;

    private EfficientNet(Builder b) {
        ModelScaling chosen = ModelScaling.of(b.variant, b.phi, b.width, b.depth, b.resolution);
        Scaling s = chosen.scaling();
        this.scaling = s;
        this.name = chosen.name();
        this.pretrainedVariant = chosen.pretrainedVariant();
        this.pretrainedSource = b.pretrainedSource;
        this.channels = b.channels;
        this.height = b.height != null ? b.height : s.resolution();
        this.width = b.inputWidth != null ? b.inputWidth : s.resolution();
        this.options = new NetworkOptions(b.numClasses, b.includeTop, b.pooling, b.multiScaleFeatures,
                b.dropoutRate != null ? b.dropoutRate : s.dropout(), b.dropPathRate, b.padding, b.batchNormEpsilon,
                b.batchNormMomentum, b.seed, b.updater, b.weightDecay, b.workspaceMode, b.cacheMode, b.dataType,
                b.fastBatchNorm, b.fusedSwish, b.fastConvolutions);
        architecture(); // validate the input shape now, not at init()
    }

    /** A builder with B0 defaults (1000 classes, with top, TF "SAME" padding). */
    public static Builder builder() {
        return new Builder();
    }

    /** The scaling coefficients of this network. */
    public Scaling scaling() {
        return scaling;
    }

    /** Head, regularisation and runtime options. */
    public NetworkOptions options() {
        return options;
    }

    /** Input shape {@code [channels, height, width]}. */
    public int[] inputShape() {
        return new int[] {channels, height, width};
    }

    /** The concrete block list for the current input shape. */
    public Architecture architecture() {
        return Architecture.of(scaling, height, width, channels, options.dropPathRate());
    }

    /** Parameter and MAC counts per stage, computed without building the graph. */
    public ModelSummary summary() {
        return ModelSummary.of(name, architecture(), options);
    }

    /** The graph configuration (no weights allocated). */
    public ComputationGraphConfiguration conf() {
        return GraphAssembler.assemble(architecture(), options);
    }

    /**
     * Builds and initialises the network with the reference weight initialisation (and enables DL4J's oneDNN layer
     * helpers unless configured otherwise: {@link OneDnnHelpers}).
     */
    @Override
    @SuppressWarnings("unchecked")
    public ComputationGraph init() {
        OneDnnHelpers.enableUnlessConfigured();
        ComputationGraph graph = new ComputationGraph(conf());
        graph.init();
        return graph;
    }

    /**
     * Builds the network and loads the official Keras ImageNet weights: downloaded once (MD5-checked), converted,
     * cached under DL4J's resource folder ({@code ~/.deeplearning4j/models/efficientnet}) and reused offline.
     * Works for B0–B7 at any input size, with top (1000 classes), headless, or multi-scale. The weights expect RGB
     * input normalised by {@link ImageNetPreprocessing#normalizer()}. Use {@link Builder#pretrainedSource} or the
     * system properties {@value WeightSource#FILE_PROPERTY} / {@value WeightSource#MIRROR_PROPERTY} for local
     * files and mirrors.
     *
     * @throws IOException if the weights cannot be had (the message says why and how to retry)
     */
    @Override
    @SuppressWarnings("unchecked")
    public <M extends Model> M initPretrained(PretrainedType pretrainedType) throws IOException {
        return (M) PretrainedLoader.load(this, pretrainedType, pretrainedSource, pretrainedVariant, name);
    }

    @Override
    public String pretrainedUrl(PretrainedType pretrainedType) {
        if (pretrainedType != PretrainedType.IMAGENET || pretrainedVariant == null) {
            return null;
        }
        return PretrainedLoader.source(pretrainedSource, pretrainedVariant, options).uri().toString();
    }

    @Override
    public long pretrainedChecksum(PretrainedType pretrainedType) {
        return 0L;
    }

    @Override
    public String modelName() {
        return "efficientnet-" + name;
    }

    @Override
    public Class<? extends Model> modelType() {
        return ComputationGraph.class;
    }

    @Override
    public ModelMetaData metaData() {
        return new ModelMetaData(new int[][] {inputShape()}, 1, ZooType.CNN);
    }

    /** Sets the input shape {@code {{channels, height, width}}}; height and width must be at least 32. */
    @Override
    public void setInputShape(int[][] inputShape) {
        if (inputShape == null || inputShape.length != 1 || inputShape[0].length != 3) {
            throw new IllegalArgumentException("input shape must be {{channels, height, width}}");
        }
        Architecture.of(scaling, inputShape[0][1], inputShape[0][2], inputShape[0][0], options.dropPathRate());
        this.channels = inputShape[0][0];
        this.height = inputShape[0][1];
        this.width = inputShape[0][2];
    }

    /** Builder for {@link EfficientNet}. Unset values come from the variant (or φ). */
    public static final class Builder {
        private Variant variant = Variant.B0;
        private Double phi;
        private double weightDecay;
        private Double width;
        private Double depth;
        private Integer resolution;
        private Integer height;
        private Integer inputWidth;
        private int channels = 3;
        private int numClasses = 1000;
        private boolean includeTop = true;
        private Pooling pooling = Pooling.AVG;
        private boolean multiScaleFeatures;
        private Double dropoutRate;
        private double dropPathRate = 0.2;
        private Padding padding = Padding.SAME;
        private double batchNormEpsilon = 1e-3;
        private double batchNormMomentum = 0.99;
        private long seed = 1234;
        private IUpdater updater = new Adam(1e-3);
        private WorkspaceMode workspaceMode = WorkspaceMode.ENABLED;
        private CacheMode cacheMode = CacheMode.NONE;
        private DataType dataType = DataType.FLOAT;
        private boolean fastBatchNorm = true;
        private boolean fusedSwish = true;
        private boolean fastConvolutions = true;
        private WeightSource pretrainedSource;

        private Builder() {
        }

        /**
         * The padding and batch-norm ε the PyTorch weights {@code weights} were trained with, and their class count if
         * they have a classifier.
         */
        public Builder matching(io.efficientnet.core.weights.PyTorchWeights weights) {
            padding(weights.padding()).batchNormEpsilon(weights.batchNormEpsilon());
            return weights.hasTop() ? numClasses(weights.numClasses()) : this;
        }

        /** One of the published variants B0–B7 (default B0). */
        public Builder variant(Variant v) {
            this.variant = java.util.Objects.requireNonNull(v, "variant");
            this.phi = null;
            return this;
        }

        /** A variant by name, {@code b0}…{@code b7}. */
        public Builder variant(String v) {
            return variant(Variant.parse(v));
        }

        /** Compound coefficient φ: depth 1.2^φ, width 1.1^φ, resolution 224·1.15^φ (multiple of 8). */
        public Builder phi(double phi) {
            Scaling.compound(phi); // validate early
            this.phi = phi;
            return this;
        }

        /** Overrides the width (channel) multiplier. */
        public Builder widthMultiplier(double w) {
            this.width = w;
            return this;
        }

        /** Overrides the depth (repeat) multiplier. */
        public Builder depthMultiplier(double d) {
            this.depth = d;
            return this;
        }

        /** Square input resolution (overrides the variant's). */
        public Builder resolution(int r) {
            this.resolution = r;
            this.height = null;
            this.inputWidth = null;
            return this;
        }

        /** Input shape; height and width may differ. */
        public Builder inputShape(int channels, int height, int width) {
            this.channels = channels;
            this.height = height;
            this.inputWidth = width;
            return this;
        }

        /** Number of classes of the classifier (default 1000). */
        public Builder numClasses(int n) {
            this.numClasses = n;
            return this;
        }

        /** Whether to include pooling, dropout and the classifier (default true). */
        public Builder includeTop(boolean include) {
            this.includeTop = include;
            return this;
        }

        /** Pooling of a headless network (default AVG). */
        public Builder pooling(Pooling p) {
            this.pooling = p;
            return this;
        }

        /** Outputs are the last block outputs at strides 2, 4, 8, 16, 32 (a detection/segmentation backbone). */
        public Builder multiScaleFeatures(boolean features) {
            this.multiScaleFeatures = features;
            return this;
        }

        /** Fraction dropped before the classifier (default: the variant's). */
        public Builder dropoutRate(double rate) {
            this.dropoutRate = rate;
            return this;
        }

        /** Drop-path (stochastic depth) rate of the last block (default 0.2). */
        public Builder dropPathRate(double rate) {
            this.dropPathRate = rate;
            return this;
        }

        /** Padding scheme (default TF "SAME"; SYMMETRIC for PyTorch-trained weights). */
        public Builder padding(Padding p) {
            this.padding = p;
            return this;
        }

        /** Batch-norm ε (default 1e-3). */
        public Builder batchNormEpsilon(double eps) {
            this.batchNormEpsilon = eps;
            return this;
        }

        /** Batch-norm moving-average momentum (default 0.99). */
        public Builder batchNormMomentum(double momentum) {
            this.batchNormMomentum = momentum;
            return this;
        }

        /** Seed of the weight initialisation (default 1234). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Updater set on every layer (default Adam 1e-3). */
        public Builder updater(IUpdater updater) {
            this.updater = updater;
            return this;
        }

        /**
         * L2 weight decay λ on convolution and dense kernels, as in the reference recipe's loss term λ/2·‖w‖²
         * (default 0; the ImageNet recipe uses 1e-5). Biases and batch-norm parameters are not decayed.
         */
        public Builder weightDecay(double lambda) {
            this.weightDecay = lambda;
            return this;
        }

        /** Workspace mode for training and inference (default ENABLED). */
        public Builder workspaceMode(WorkspaceMode mode) {
            this.workspaceMode = mode;
            return this;
        }

        /** Cache mode (default NONE). */
        public Builder cacheMode(CacheMode mode) {
            this.cacheMode = mode;
            return this;
        }

        // Layer implementations: this project's subclasses of DL4J's layers (default), or DL4J's own ones for tests
        // that compare the two (the engines run both). fusedSwish: batch norm + swish as one layer named like the
        // Keras activation (holding the Keras batch norm's weights), or Keras' two layers.

        Builder fastBatchNorm(boolean fast) {
            this.fastBatchNorm = fast;
            return this;
        }

        Builder fusedSwish(boolean fused) {
            this.fusedSwish = fused;
            return this;
        }

        Builder fastConvolutions(boolean fast) {
            this.fastConvolutions = fast;
            return this;
        }

        /** Network data type (default FLOAT). */
        public Builder dataType(DataType type) {
            this.dataType = type;
            return this;
        }

        /** Where {@link EfficientNet#initPretrained} takes weights from (default: the official Keras files). */
        public Builder pretrainedSource(WeightSource source) {
            this.pretrainedSource = source;
            return this;
        }

        /** Builds the zoo model; the graph is created by {@link EfficientNet#init()}. */
        public EfficientNet build() {
            return new EfficientNet(this);
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "EfficientNet[%s, width=%.4f, depth=%.4f, input=%dx%dx%d, classes=%d, top=%s]",
                name, scaling.width(), scaling.depth(), channels, height, width, options.numClasses(),
                options.includeTop());
    }
}
