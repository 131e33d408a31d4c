package io.efficientnet.core.weights;

import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.model.BlockConfig;
import io.efficientnet.core.model.GraphAssembler;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A network's weights as torchvision's {@code efficientnet_bN} state_dict (names and PyTorch layouts), for tests
 * that need PyTorch files of full-size variants. The names are written from torchvision's module structure, not by
 * inverting the import's mapping.
 */
public final class TorchvisionStateDict {

    private static final Pattern BLOCK = Pattern.compile("(block\\d+([a-z]))_(.+)");

    private TorchvisionStateDict() {
    }

    /** The state_dict (without {@code num_batches_tracked}) of {@code net}, built from {@code model}. */
    public static Map<String, TorchTensor> of(EfficientNet model, ComputationGraph net) {
        Map<String, BlockConfig> blocks = new LinkedHashMap<>();
        model.architecture().blocks().forEach(b -> blocks.put(b.name(), b));
        Map<String, TorchTensor> out = new LinkedHashMap<>();
        for (Layer layer : net.getLayers()) {
            if (layer.numParams() == 0) {
                continue;
            }
            var conf = layer.conf().getLayer();
            String m = module(GraphAssembler.kerasWeightName(conf), blocks);
            if (conf instanceof DepthwiseConvolution2D) {
                put(out, m + ".weight", layer.getParam("W").permute(2, 3, 0, 1));
            } else if (conf instanceof ConvolutionLayer) {
                put(out, m + ".weight", layer.getParam("W"));
                if (layer.paramTable().containsKey("b")) {
                    put(out, m + ".bias", layer.getParam("b").reshape(-1));
                }
            } else if (conf instanceof BatchNormalization) {
                put(out, m + ".weight", layer.getParam("gamma").reshape(-1));
                put(out, m + ".bias", layer.getParam("beta").reshape(-1));
                put(out, m + ".running_mean", layer.getParam("mean").reshape(-1));
                INDArray log10std = layer.getParam("log10stdev").reshape(-1).castTo(DataType.DOUBLE);
                // DL4J stores log10(√var)
                put(out, m + ".running_var", Transforms.exp(log10std.mul(2 * Math.log(10)), false));
            } else {
                put(out, m + ".weight", layer.getParam("W").transpose());
                put(out, m + ".bias", layer.getParam("b").reshape(-1));
            }
        }
        return out;
    }

    private static void put(Map<String, TorchTensor> out, String name, INDArray value) {
        INDArray c = value.castTo(DataType.FLOAT).dup('c');
        out.put(name, new TorchTensor(name, c.shape(), c.data().asFloat()));
    }

    private static String module(String keras, Map<String, BlockConfig> blocks) {
        String fixed = switch (keras) {
            case "stem_conv" -> "features.0.0";
            case "stem_bn" -> "features.0.1";
            case "top_conv" -> "features.8.0";
            case "top_bn" -> "features.8.1";
            case "predictions" -> "classifier.1";
            default -> null;
        };
        Matcher m = BLOCK.matcher(keras);
        if (fixed != null || !m.matches()) {
            return java.util.Objects.requireNonNull(fixed, keras);
        }
        BlockConfig b = blocks.get(m.group(1));
        // torchvision MBConv: [expand conv+bn], depthwise conv+bn, SqueezeExcitation(fc1, fc2), project conv+bn
        int e = b.expandRatio() != 1 ? 1 : 0;
        String prefix = "features." + b.stage() + "." + (m.group(2).charAt(0) - 'a') + ".block.";
        return prefix + switch (m.group(3)) {
            case "expand_conv" -> "0.0";
            case "expand_bn" -> "0.1";
            case "dwconv" -> e + ".0";
            case "bn" -> e + ".1";
            case "se_reduce" -> (e + 1) + ".fc1";
            case "se_expand" -> (e + 1) + ".fc2";
            case "project_conv" -> (e + 2) + ".0";
            case "project_bn" -> (e + 2) + ".1";
            default -> throw new IllegalArgumentException(keras);
        };
    }
}
