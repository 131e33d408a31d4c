package io.efficientnet.core.onednn;

import io.efficientnet.core.inference.BatchNormFolding;
import io.efficientnet.core.layers.ChannelScaleVertex;
import io.efficientnet.core.layers.FastBatchNormalization;
import io.efficientnet.core.layers.FastConvolution2D;
import io.efficientnet.core.layers.FastDepthwiseConvolution2D;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.FrozenVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayerWithBackprop;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import io.efficientnet.core.layers.DropPath;
import org.deeplearning4j.nn.conf.dropout.IDropout;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Lowers a DL4J {@link ComputationGraph} to {@link LoweredOp}s, one op per layer or vertex. For inference, dropout
 * and drop-path are the identity and parameters are copied (later changes to the network do not reach the lowered
 * one); {@link InferenceFusion} then folds batch norms into the convolution before them and makes activations and
 * residual adds post-ops. For training, nothing is fused and weights are read from the network at every step.
 *
 * <p>Runs EfficientNet as this project builds it (plain or fast layers, fused or separate batch norm + swish,
 * Keras' or symmetric padding, with or without top, multi-scale outputs) and other graphs made of the same layer
 * kinds. Anything else is refused with the vertex's name and type. For training, frozen layers and vertices
 * (transfer learning) run as at inference, as DL4J runs them.
 */
public final class GraphLowering {

    private static final Set<Class<?>> CONVOLUTIONS = Set.of(ConvolutionLayer.class, FastConvolution2D.class,
            DepthwiseConvolution2D.class, FastDepthwiseConvolution2D.class);

    private final ComputationGraph net;
    /** Lowering for training: refuses what training cannot run, keeps dropout, copies no weights. */
    private final boolean training;
    private final ComputationGraphConfiguration conf;
    private final List<LoweredOp> ops = new ArrayList<>();
    /** Vertex name → the tensor holding its output. */
    private final Map<String, String> tensorOf = new HashMap<>();
    /** Vertices wrapped by transfer learning's freeze ({@code FrozenLayer}, {@code FrozenVertex}, …). */
    private final Set<String> frozenVertices = new HashSet<>();
    /** Ops lowered (for training) from frozen vertices. */
    private final Set<String> frozenOps = new HashSet<>();
    /** Vertex → a trainable vertex with parameters that it reads from, directly or not (training only). */
    private final Map<String, String> trainableAncestor = new HashMap<>();
    /** Whether the vertex being lowered is frozen and lowered for training. */
    private boolean frozenNow;

    private GraphLowering(ComputationGraph net, boolean training) {
        if (net.getConfiguration() == null || net.params() == null) {
            throw new IllegalArgumentException("the network must be initialised (init()) before it can be lowered");
        }
        this.net = net;
        this.training = training;
        this.conf = net.getConfiguration();
        conf.getVertices().forEach((name, vertex) -> {
            if (vertex instanceof FrozenVertex || vertex instanceof LayerVertex lv
                    && unfrozen(lv.getLayerConf().getLayer()) != lv.getLayerConf().getLayer()) {
                frozenVertices.add(name);
            }
        });
    }

    /**
     * Lowers an initialised network for inference, fused ({@link InferenceFusion}).
     *
     * @throws IllegalArgumentException naming the vertex, for a vertex or layer configuration the engine cannot run
     */
    public static LoweredNetwork lower(ComputationGraph net) {
        return InferenceFusion.fuse(new GraphLowering(net, false).run(), name -> {
            INDArray[] ss = BatchNormFolding.scaleAndShift(net.getLayer(name));
            return new InferenceFusion.ScaleShift(ss[0].toDoubleVector(), ss[1].toDoubleVector());
        });
    }

    /**
     * Lowers an initialised network for training steps: nothing is folded or fused (the backward pass needs every
     * intermediate value), batch norms use batch statistics, dropout and drop-path stay; weights are not copied (a
     * step reads them from the network). The output must be a softmax {@code OutputLayer} with multi-class
     * cross-entropy. Frozen layers and vertices run as DL4J runs them, as at inference (batch norms with their running
     * statistics, no dropout), and are listed in {@link LoweredNetwork#frozen()}; they must not read from a trainable
     * layer (a frozen prefix, as {@code TransferLearning.GraphBuilder.setFeatureExtractor} makes it).
     *
     * @throws IllegalArgumentException naming the vertex, for what the training engine cannot run (a frozen layer
     *                                  reading from a trainable one, dropout on a layer's input, dropout schedules, max
     *                                  pooling, other losses, …)
     */
    public static LoweredNetwork lowerForTraining(ComputationGraph net) {
        LoweredNetwork lowered = new GraphLowering(net, true).run();
        if (lowered.outputs().size() != 1 || !(lowered.ops().get(lowered.ops().size() - 1)
                instanceof LoweredOp.Dense d && d.softmax() && d.output().equals(lowered.outputs().get(0)))) {
            throw new IllegalArgumentException("the oneDNN training engine needs one output, a softmax OutputLayer "
                    + "with multi-class cross-entropy, as the last layer; outputs: " + lowered.outputs());
        }
        return lowered;
    }

    private LoweredNetwork run() {
        List<String> inputs = conf.getNetworkInputs();
        if (inputs.size() != 1) {
            throw new IllegalArgumentException("the oneDNN engine runs networks with one input, this one has " + inputs);
        }
        String input = inputs.get(0);
        tensorOf.put(input, input);
        long channels = -1;
        for (int index : net.topologicalSortOrder()) {
            String name = net.getVertices()[index].getVertexName();
            if (name.equals(input)) {
                continue;
            }
            GraphVertex vertex = conf.getVertices().get(name);
            List<String> in = conf.getVertexInputs().get(name);
            frozenNow = training && frozenVertices.contains(name);
            if (training) {
                requireFrozenPrefix(name, in);
            }
            while (vertex instanceof FrozenVertex frozen) { // transfer learning's frozen graph vertices
                vertex = frozen.getUnderlying();
            }
            if (vertex instanceof LayerVertex lv) {
                if (lv.getPreProcessor() != null) {
                    throw unsupported(name, "input preprocessor " + lv.getPreProcessor().getClass().getSimpleName());
                }
                if (in.size() != 1) {
                    throw unsupported(name, "a layer with " + in.size() + " inputs");
                }
                org.deeplearning4j.nn.conf.layers.Layer layer = unfrozen(lv.getLayerConf().getLayer());
                if (training && !frozenNow && !(layer instanceof DropoutLayer) && layer.getIDropout() != null) {
                    throw unsupported(name, "dropout on a layer's input (" + layer.getIDropout() + ") in training");
                }
                if (channels < 0 && in.get(0).equals(input) && layer instanceof ConvolutionLayer c) {
                    channels = c.getNIn();
                }
                layer(name, layer, in.get(0));
            } else if (vertex instanceof ChannelScaleVertex) {
                add(new LoweredOp.ChannelScale(name, tensor(in.get(0)), tensor(in.get(1)), name));
            } else if (vertex instanceof ElementWiseVertex ew) {
                if (ew.getOp() != ElementWiseVertex.Op.Add || in.size() != 2) {
                    throw unsupported(name, "element-wise " + ew.getOp() + " of " + in.size() + " inputs (only the add"
                            + " of two)");
                }
                residualAdd(name, in.get(0), in.get(1));
            } else {
                throw unsupported(name, vertex.getClass().getSimpleName());
            }
        }
        if (channels < 0) {
            throw new IllegalArgumentException("the network input '" + input + "' must feed a convolution");
        }
        List<String> outputs = conf.getNetworkOutputs().stream().map(this::tensor).toList();
        return new LoweredNetwork(input, channels, ops, outputs, frozenOps);
    }

    /**
     * Records whether {@code vertex} reads from a trainable layer, and refuses a frozen vertex that does: DL4J's
     * {@code FrozenLayer} passes no gradient to its input, which the engine does not reproduce.
     */
    private void requireFrozenPrefix(String vertex, List<String> in) {
        for (String u : in) {
            String t = trainableAncestor.get(u);
            if (t == null && !frozenVertices.contains(u) && net.getVertex(u).numParams() > 0) {
                t = u;
            }
            if (t != null) {
                trainableAncestor.put(vertex, t);
                if (frozenVertices.contains(vertex)) {
                    throw unsupported(vertex, "a frozen vertex that reads from the trainable '" + t + "' in training"
                            + " (only frozen vertices whose ancestors with parameters are frozen too, as"
                            + " setFeatureExtractor freezes them)");
                }
                return;
            }
        }
    }

    /** The layer inside a transfer-learning freeze wrapper (frozen or not makes no difference at inference). */
    private static org.deeplearning4j.nn.conf.layers.Layer unfrozen(org.deeplearning4j.nn.conf.layers.Layer layer) {
        if (layer instanceof FrozenLayer f) {
            return unfrozen(f.getLayer());
        }
        if (layer instanceof FrozenLayerWithBackprop f) {
            return unfrozen(f.getUnderlying());
        }
        return layer;
    }

    private void layer(String name, org.deeplearning4j.nn.conf.layers.Layer layer, String in) {
        if (layer instanceof ConvolutionLayer c && CONVOLUTIONS.contains(c.getClass())) {
            add(convolution(name, c, tensor(in)));
        } else if (layer instanceof BatchNormalization bn) {
            batchNorm(name, bn, tensor(in));
        } else if (layer instanceof ActivationLayer a) {
            activation(name, Eltwise.of(a.getActivationFn(), name), in);
        } else if (layer instanceof DropoutLayer d && training && !frozenNow) {
            add(dropout(name, d, tensor(in)));
        } else if (layer instanceof DropoutLayer) {
            alias(name, in); // identity at inference (dropout and drop-path alike)
        } else if (layer instanceof GlobalPoolingLayer p) {
            add(pooling(name, p, tensor(in)));
        } else if (layer.getClass() == DenseLayer.class || layer.getClass() == OutputLayer.class) {
            add(dense(name, (FeedForwardLayer) layer, tensor(in)));
        } else {
            throw unsupported(name, layer.getClass().getSimpleName());
        }
    }

    private void batchNorm(String name, BatchNormalization bn, String in) {
        if (bn.getCnn2DFormat() != CNN2DFormat.NCHW) {
            throw unsupported(name, "batch norm data format " + bn.getCnn2DFormat() + " (only NCHW)");
        }
        if (training && bn.isLockGammaBeta()) {
            throw unsupported(name, "a batch norm with locked gamma/beta in training");
        }
        if (training && flatFeatures(in)) {
            // oneDNN's float32 batch statistics of such features (a small spread about a large mean) missed the
            // float64 result by several times DL4J's float32 error
            throw unsupported(name, "a batch norm on [N, C] features (after global pooling or a dense layer) in "
                    + "training");
        }
        add(new LoweredOp.BatchNorm(name, in, name, bn.getNOut(), bn.getEps(),
                bn instanceof FastBatchNormalization f && f.isSwish()));
    }

    /** Whether {@code tensor} is {@code [N, C]}: a collapsing global pooling's or a dense layer's output. */
    private boolean flatFeatures(String tensor) {
        for (int i = ops.size() - 1; i >= 0; i--) {
            LoweredOp op = ops.get(i);
            if (op.output().equals(tensor)) {
                return op instanceof LoweredOp.GlobalPool p ? p.collapse() : op instanceof LoweredOp.Dense
                        || op.inputs().size() == 1 && flatFeatures(op.inputs().get(0));
            }
        }
        return false;
    }

    private LoweredOp.Dropout dropout(String name, DropoutLayer layer, String in) {
        IDropout d = layer.getIDropout();
        if (d == null) {
            return new LoweredOp.Dropout(name, in, name, 1.0, false);
        }
        if (d instanceof DropPath p) {
            return new LoweredOp.Dropout(name, in, name, 1.0 - p.getRate(), true);
        }
        if (d instanceof org.deeplearning4j.nn.conf.dropout.Dropout p && p.getPSchedule() == null) {
            return new LoweredOp.Dropout(name, in, name, p.getP(), false);
        }
        throw unsupported(name, "dropout " + d + " in training (only Dropout with a fixed probability and DropPath)");
    }

    private LoweredOp.Conv convolution(String name, ConvolutionLayer c, String in) {
        if (c.getCnn2dDataFormat() != CNN2DFormat.NCHW) {
            throw unsupported(name, "data format " + c.getCnn2dDataFormat() + " (only NCHW)");
        }
        if (c.getDilation()[0] != 1 || c.getDilation()[1] != 1) {
            throw unsupported(name, "dilation " + Arrays.toString(c.getDilation()));
        }
        ConvolutionMode mode = c.getConvolutionMode();
        boolean same = mode == ConvolutionMode.Same;
        if (!same && mode != ConvolutionMode.Truncate && mode != ConvolutionMode.Strict) {
            throw unsupported(name, "convolution mode " + mode);
        }
        Layer runtime = net.getLayer(name);
        INDArray w = runtime.getParam(ConvolutionParamInitializer.WEIGHT_KEY);
        long nIn = c.getNIn();
        long nOut;
        int groups;
        float[] weights;
        if (c instanceof DepthwiseConvolution2D dw) {
            // DL4J: [kH, kW, in, multiplier]; oneDNN goihw: [in][multiplier][1][kH][kW]
            weights = training ? null : floats(w.permute(2, 3, 0, 1));
            groups = Math.toIntExact(nIn);
            nOut = nIn * dw.getDepthMultiplier();
        } else {
            weights = training ? null : floats(w); // [out, in, kH, kW]
            groups = 1;
            nOut = c.getNOut();
        }
        INDArray b = c.hasBias() ? runtime.getParam(ConvolutionParamInitializer.BIAS_KEY) : null;
        int[] k = c.getKernelSize();
        int[] s = c.getStride();
        int[] p = c.getPadding();
        return new LoweredOp.Conv(name, in, name, nIn, nOut, groups, k[0], k[1], s[0], s[1], same,
                same ? 0 : p[0], same ? 0 : p[1], weights, b == null ? null : training ? new float[0] : floats(b),
                Eltwise.of(c.getActivationFn(), name), null);
    }

    private void activation(String name, Eltwise e, String in) {
        if (e == Eltwise.NONE) {
            alias(name, in);
        } else {
            add(new LoweredOp.Activation(name, tensor(in), name, e));
        }
    }

    private void residualAdd(String name, String a, String b) {
        add(new LoweredOp.Add(name, tensor(a), tensor(b), name));
    }

    private LoweredOp.GlobalPool pooling(String name, GlobalPoolingLayer p, String in) {
        int[] dims = p.getPoolingDimensions();
        if (dims != null && !Arrays.equals(dims, new int[] {2, 3})) {
            throw unsupported(name, "pooling over dimensions " + Arrays.toString(dims) + " (only height and width)");
        }
        if (p.getPoolingType() != PoolingType.AVG && p.getPoolingType() != PoolingType.MAX) {
            throw unsupported(name, "global " + p.getPoolingType() + " pooling (only AVG and MAX)");
        }
        if (training && p.getPoolingType() == PoolingType.MAX) {
            throw unsupported(name, "global max pooling in training (only average)");
        }
        return new LoweredOp.GlobalPool(name, in, name, p.getPoolingType() == PoolingType.MAX,
                p.isCollapseDimensions());
    }

    private LoweredOp.Dense dense(String name, FeedForwardLayer layer, String in) {
        Layer runtime = net.getLayer(name);
        INDArray w = runtime.getParam(DefaultParamInitializer.WEIGHT_KEY); // [in, out]
        INDArray b = runtime.paramTable().get(DefaultParamInitializer.BIAS_KEY);
        boolean softmax = layer.getActivationFn() instanceof ActivationSoftmax;
        Eltwise e = softmax ? Eltwise.NONE : Eltwise.of(layer.getActivationFn(), name);
        if (training && layer instanceof OutputLayer out && !(softmax && out.getLossFn() instanceof LossMCXENT mc
                && mc.getWeights() == null)) {
            throw unsupported(name, "an output layer with " + out.getActivationFn() + " and " + out.getLossFn()
                    + " in training (only softmax with unweighted multi-class cross-entropy)");
        }
        if (training && softmax && !(layer instanceof OutputLayer)) {
            throw unsupported(name, "a softmax dense layer that is not the output layer in training");
        }
        return new LoweredOp.Dense(name, in, name, layer.getNIn(), layer.getNOut(),
                training ? null : floats(w.transpose()), b == null ? null : training ? new float[0] : floats(b), e,
                softmax);
    }

    /** {@code vertex} is the same tensor as {@code in} (an identity). */
    private void alias(String vertex, String in) {
        tensorOf.put(vertex, tensor(in));
    }

    private void add(LoweredOp op) {
        if (frozenNow) {
            frozenOps.add(op.name());
        }
        ops.add(op);
        tensorOf.put(op.output(), op.output());
    }

    private String tensor(String vertex) {
        String t = tensorOf.get(vertex);
        if (t == null) {
            throw new IllegalStateException("vertex '" + vertex + "' read before it was lowered");
        }
        return t;
    }

    private static float[] floats(INDArray a) {
        return a.castTo(DataType.FLOAT).dup('c').data().asFloat();
    }

    static IllegalArgumentException unsupported(String vertex, String what) {
        return new IllegalArgumentException("vertex '" + vertex + "': the oneDNN engine does not run " + what);
    }
}
