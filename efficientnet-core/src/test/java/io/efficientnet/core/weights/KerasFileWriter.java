package io.efficientnet.core.weights;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.reflect.Array;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Test helper: writes a DL4J EfficientNet's weights in Keras' {@code save_weights} HDF5 layout (Keras shapes,
 * Keras names), so that import can be checked against the network the weights came from.
 */
final class KerasFileWriter {

    private KerasFileWriter() {
    }

    static void write(ComputationGraph net, Path file, Map<String, String> skipLayers) {
        Map<String, Map<String, INDArray>> layers = new LinkedHashMap<>();
        layers.put("input_1", Map.of());
        layers.put("rescaling", Map.of());
        Map<String, INDArray> norm = new LinkedHashMap<>();
        norm.put("mean", Nd4j.createFromArray(ImageNetPreprocessing.MEAN));
        norm.put("variance", Nd4j.createFromArray(ImageNetPreprocessing.STD));
        norm.put("count", Nd4j.scalar(0f));
        layers.put("normalization", norm);
        for (Layer layer : net.getLayers()) {
            // Keras names: a fused batch norm + swish (block1a_activation) writes the batch norm's (block1a_bn)
            String name = io.efficientnet.core.model.GraphAssembler.kerasWeightName(layer.conf().getLayer());
            if (skipLayers.containsKey(name)) {
                continue;
            }
            Map<String, INDArray> w = new LinkedHashMap<>();
            var conf = layer.conf().getLayer();
            if (conf instanceof DepthwiseConvolution2D) {
                w.put("depthwise_kernel", layer.getParam("W"));
            } else if (conf instanceof ConvolutionLayer) {
                w.put("kernel", layer.getParam("W").permute(2, 3, 1, 0));
                if (layer.paramTable().containsKey("b")) {
                    w.put("bias", layer.getParam("b").reshape(-1));
                }
            } else if (conf instanceof BatchNormalization) {
                w.put("gamma", layer.getParam("gamma").reshape(-1));
                w.put("beta", layer.getParam("beta").reshape(-1));
                w.put("moving_mean", layer.getParam("mean").reshape(-1));
                INDArray std = org.nd4j.linalg.ops.transforms.Transforms.pow(Nd4j.scalar(10.0f)
                        .broadcast(layer.getParam("log10stdev").shape()), layer.getParam("log10stdev"), true);
                w.put("moving_variance", std.mul(std).reshape(-1));
            } else if (layer.numParams() > 0) {
                w.put("kernel", layer.getParam("W"));
                w.put("bias", layer.getParam("b").reshape(-1));
            }
            layers.put(name, w);
        }
        try (WritableHdfFile h5 = HdfFile.write(file)) {
            h5.putAttribute("layer_names", layers.keySet().toArray(new String[0]));
            h5.putAttribute("backend", "tensorflow");
            for (var e : layers.entrySet()) {
                WritableGroup g = h5.putGroup(e.getKey());
                List<String> names = new ArrayList<>();
                for (String role : e.getValue().keySet()) {
                    names.add(e.getKey() + "/" + role + ":0");
                }
                if (!e.getValue().isEmpty()) { // jhdf cannot write empty string arrays; readers treat absent as empty
                    g.putAttribute("weight_names", names.toArray(new String[0]));
                    WritableGroup inner = g.putGroup(e.getKey());
                    for (var w : e.getValue().entrySet()) {
                        inner.putDataset(w.getKey() + ":0", nested(w.getValue()));
                    }
                }
            }
        }
    }

    /** A float INDArray as a nested Java array of its rank (row-major). */
    static Object nested(INDArray a) {
        INDArray c = a.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c');
        float[] flat = c.data().asFloat();
        long[] shape = c.shape();
        if (shape.length == 0) {
            return flat;
        }
        int[] dims = new int[shape.length];
        for (int i = 0; i < shape.length; i++) {
            dims[i] = (int) shape[i];
        }
        Object out = Array.newInstance(float.class, dims);
        fill(out, flat, new int[] {0}, 0, dims);
        return out;
    }

    private static void fill(Object arr, float[] flat, int[] pos, int depth, int[] dims) {
        if (depth == dims.length - 1) {
            float[] row = (float[]) arr;
            System.arraycopy(flat, pos[0], row, 0, row.length);
            pos[0] += row.length;
            return;
        }
        for (int i = 0; i < dims[depth]; i++) {
            fill(Array.get(arr, i), flat, pos, depth + 1, dims);
        }
    }
}
