package io.efficientnet.core.inference;

import io.efficientnet.core.layers.FastBatchNormalization;
import io.efficientnet.core.layers.FastConvolution2D;
import io.efficientnet.core.layers.FastDepthwiseConvolution2D;
import io.efficientnet.core.layers.StableSwish;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Inference-time folding of batch normalisation into the convolution before it.
 *
 * <p>Every {@link BatchNormalization} whose only input is a {@link ConvolutionLayer} or
 * {@link DepthwiseConvolution2D} (identity activation, no other consumer, not a network output, NCHW) is removed;
 * the convolution gets a bias and, per output channel {@code o},
 * <pre>
 *   s[o]  = γ[o] / sqrt(var[o] + ε)
 *   W'[o] = W[o] · s[o]
 *   b'[o] = β[o] + (b[o] − mean[o]) · s[o]      (b = 0 when the convolution had no bias)
 * </pre>
 * exactly as DL4J's batch-norm layer computes its inference output: {@code var = (10^log10stdev)²} (or the stored
 * variance for models saved without {@code useLogStd}), ε added to the variance inside the square root. The folded
 * convolution keeps its identity activation: DL4J 1.0.0-M2.1's batch-norm layer never applies the activation
 * function in its configuration (its output is the normalised value). All other vertices keep their names and
 * parameters;
 * consumers of a removed batch norm now read from its convolution (also where the batch norm was a network output).
 * A {@link FastBatchNormalization} with fused swish is not removed but replaced by a {@link StableSwish}
 * {@link ActivationLayer} of the same name reading the folded convolution, so its consumers and name stay.
 *
 * <p>The result is for inference: in training mode a batch norm normalises with batch statistics, which the folded
 * network no longer does. Input normalisation (the ImageNet normalizer) is not folded into the stem: the stem's zero
 * padding is applied after normalisation, so folding it would change every output pixel whose receptive field
 * touches the padding.
 */
public final class BatchNormFolding {

    private BatchNormFolding() {
    }

    /** One convolution and the batch norm folded into it. */
    public record Fold(String convolution, String batchNorm, long batchNormParams, long addedBiasParams) {
    }

    /**
     * The folded network and what was done.
     *
     * @param graph          the new network (initialised, parameters set)
     * @param folds          the folded pairs, in the original graph's vertex order
     * @param renamedOutputs network outputs that were batch norms, mapped to the convolution that now produces them
     */
    public record Result(ComputationGraph graph, List<Fold> folds, Map<String, String> renamedOutputs) {

        /** Parameters removed with the batch norms (γ, β, mean, variance: 4 per channel). */
        public long removedBatchNormParams() {
            return folds.stream().mapToLong(Fold::batchNormParams).sum();
        }

        /** Bias parameters added to convolutions that had none. */
        public long addedBiasParams() {
            return folds.stream().mapToLong(Fold::addedBiasParams).sum();
        }
    }

    /**
     * Folds every eligible batch norm of {@code net} into its convolution. {@code net} is not modified.
     *
     * @throws IllegalArgumentException if a batch norm that qualifies structurally has a configuration this class
     *                                  cannot fold exactly (the message names the layer)
     */
    public static Result fold(ComputationGraph net) {
        ComputationGraphConfiguration conf = ComputationGraphConfiguration.fromJson(net.getConfiguration().toJson());
        Map<String, GraphVertex> vertices = conf.getVertices();
        Map<String, List<String>> inputs = conf.getVertexInputs();
        Map<String, Integer> consumers = new LinkedHashMap<>();
        for (List<String> in : inputs.values()) {
            for (String s : in) {
                consumers.merge(s, 1, Integer::sum);
            }
        }

        List<Fold> folds = new ArrayList<>();
        for (Map.Entry<String, GraphVertex> e : vertices.entrySet()) {
            String bnName = e.getKey();
            if (!(e.getValue() instanceof LayerVertex bnVertex)
                    || !(bnVertex.getLayerConf().getLayer() instanceof BatchNormalization bn)) {
                continue;
            }
            List<String> in = inputs.get(bnName);
            if (in == null || in.size() != 1 || bnVertex.getPreProcessor() != null) {
                continue;
            }
            String convName = in.get(0);
            if (!(vertices.get(convName) instanceof LayerVertex convVertex)) {
                continue;
            }
            if (!(convVertex.getLayerConf().getLayer() instanceof ConvolutionLayer conv) || !isFoldable(conv)
                    || consumers.getOrDefault(convName, 0) != 1 || conf.getNetworkOutputs().contains(convName)) {
                continue;
            }
            if (bn.getCnn2DFormat() != CNN2DFormat.NCHW) {
                throw new IllegalArgumentException("batch norm '" + bnName + "' uses " + bn.getCnn2DFormat()
                        + "; only NCHW is supported");
            }
            long channels = conv.getNOut();
            folds.add(new Fold(convName, bnName, net.getLayer(bnName).numParams(), conv.hasBias() ? 0 : channels));
        }

        Map<String, String> bnToConv = new LinkedHashMap<>();
        Set<String> becameSwish = new HashSet<>();
        for (Fold f : folds) {
            LayerVertex convVertex = (LayerVertex) vertices.get(f.convolution());
            ConvolutionLayer conv = (ConvolutionLayer) convVertex.getLayerConf().getLayer();
            conv.setHasBias(true); // activation stays identity: DL4J's batch norm never applies its configured one
            convVertex.getLayerConf().clearVariables(); // re-registered in the initializer's order at init()
            LayerVertex bnVertex = (LayerVertex) vertices.get(f.batchNorm());
            if (bnVertex.getLayerConf().getLayer() instanceof FastBatchNormalization fused && fused.isSwish()) {
                // a fused batch norm + swish keeps its vertex and name as the swish that reads the convolution
                NeuralNetConfiguration swish = bnVertex.getLayerConf().clone();
                ActivationLayer activation = new ActivationLayer.Builder().activation(new StableSwish()).build();
                activation.setLayerName(f.batchNorm());
                swish.setLayer(activation);
                swish.clearVariables();
                vertices.put(f.batchNorm(), new LayerVertex(swish, null));
                becameSwish.add(f.batchNorm());
            } else {
                bnToConv.put(f.batchNorm(), f.convolution());
                vertices.remove(f.batchNorm());
                inputs.remove(f.batchNorm());
            }
        }
        for (List<String> in : inputs.values()) {
            in.replaceAll(s -> bnToConv.getOrDefault(s, s));
        }
        Map<String, String> renamedOutputs = new LinkedHashMap<>();
        List<String> outputs = new ArrayList<>(conf.getNetworkOutputs());
        for (int i = 0; i < outputs.size(); i++) {
            String conv = bnToConv.get(outputs.get(i));
            if (conv != null) {
                renamedOutputs.put(outputs.get(i), conv);
                outputs.set(i, conv);
            }
        }
        conf.setNetworkOutputs(outputs);
        conf.setTopologicalOrder(null);
        conf.setTopologicalOrderStr(null);
        conf.validate();

        ComputationGraph folded = new ComputationGraph(conf);
        folded.init();
        Map<String, Fold> byConv = new LinkedHashMap<>();
        folds.forEach(f -> byConv.put(f.convolution(), f));
        for (Layer layer : folded.getLayers()) {
            String name = layer.conf().getLayer().getLayerName();
            Fold f = byConv.get(name);
            if (f != null) {
                setFolded(layer, net.getLayer(f.convolution()), net.getLayer(f.batchNorm()));
            } else if (!becameSwish.contains(name)) {
                Layer original = net.getLayer(name);
                for (Map.Entry<String, INDArray> p : original.paramTable().entrySet()) {
                    layer.setParam(p.getKey(), p.getValue());
                }
            }
        }
        return new Result(folded, List.copyOf(folds), renamedOutputs);
    }

    /** A plain or depthwise convolution (not separable, deconvolution, …) with identity activation, NCHW. */
    private static boolean isFoldable(ConvolutionLayer conv) {
        boolean plainOrDepthwise = conv.getClass() == ConvolutionLayer.class || conv.getClass() == FastConvolution2D.class
                || conv.getClass() == DepthwiseConvolution2D.class
                || conv.getClass() == FastDepthwiseConvolution2D.class;
        return plainOrDepthwise && conv.getActivationFn() instanceof ActivationIdentity
                && conv.getCnn2dDataFormat() == CNN2DFormat.NCHW;
    }

    /**
     * Per-channel scale γ/sqrt(var+ε) and shift β − mean·scale of a batch-norm layer (DL4J or fast), as two
     * double-precision vectors of length C.
     */
    public static INDArray[] scaleAndShift(Layer bnLayer) {
        BatchNormalization bn = (BatchNormalization) bnLayer.conf().getLayer();
        long c = bn.getNOut();
        INDArray mean = bnLayer.getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN).castTo(DataType.DOUBLE)
                .reshape(c);
        INDArray var;
        if (bn.isUseLogStd()) {
            INDArray log10std = bnLayer.getParam(BatchNormalizationParamInitializer.GLOBAL_LOG_STD)
                    .castTo(DataType.DOUBLE).reshape(c);
            INDArray std = Nd4j.valueArrayOf(new long[] {c}, 10.0, DataType.DOUBLE);
            std = Transforms.pow(std, log10std, false);
            var = std.mul(std);
        } else {
            var = bnLayer.getParam(BatchNormalizationParamInitializer.GLOBAL_VAR).castTo(DataType.DOUBLE).reshape(c);
        }
        INDArray gamma;
        INDArray beta;
        if (bn.isLockGammaBeta()) {
            gamma = Nd4j.valueArrayOf(new long[] {c}, bn.getGamma(), DataType.DOUBLE);
            beta = Nd4j.valueArrayOf(new long[] {c}, bn.getBeta(), DataType.DOUBLE);
        } else {
            gamma = bnLayer.getParam(BatchNormalizationParamInitializer.GAMMA).castTo(DataType.DOUBLE).reshape(c);
            beta = bnLayer.getParam(BatchNormalizationParamInitializer.BETA).castTo(DataType.DOUBLE).reshape(c);
        }
        INDArray scale = gamma.div(Transforms.sqrt(var.add(bn.getEps()), false));
        INDArray shift = beta.sub(mean.mul(scale));
        return new INDArray[] {scale, shift};
    }

    private static void setFolded(Layer target, Layer conv, Layer bnLayer) {
        INDArray[] ss = scaleAndShift(bnLayer);
        INDArray scale = ss[0];
        INDArray shift = ss[1];
        long c = scale.length();
        INDArray w = conv.getParam(ConvolutionParamInitializer.WEIGHT_KEY);
        DataType type = w.dataType();
        long[] shape = w.shape();
        INDArray wd = w.castTo(DataType.DOUBLE).dup('c');
        if (conv.conf().getLayer() instanceof DepthwiseConvolution2D) {
            // [kH, kW, nIn, multiplier]: output channel = input channel · multiplier + m, the last two axes in c order
            wd = wd.reshape('c', shape[0] * shape[1], c).mulRowVector(scale.reshape(1, c));
        } else {
            // [nOut, nIn, kH, kW]
            wd = wd.reshape('c', c, wd.length() / c).mulColumnVector(scale.reshape(c, 1));
        }
        INDArray bias = shift.dup();
        INDArray oldBias = conv.paramTable().get(ConvolutionParamInitializer.BIAS_KEY);
        if (oldBias != null) {
            bias.addi(oldBias.castTo(DataType.DOUBLE).reshape(c).mul(scale));
        }
        target.setParam(ConvolutionParamInitializer.WEIGHT_KEY, wd.castTo(type).reshape(shape));
        INDArray targetBias = target.getParam(ConvolutionParamInitializer.BIAS_KEY);
        target.setParam(ConvolutionParamInitializer.BIAS_KEY, bias.castTo(type).reshape(targetBias.shape()));
    }
}
