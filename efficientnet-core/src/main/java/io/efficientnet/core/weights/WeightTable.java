package io.efficientnet.core.weights;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Weights in Keras' naming and layout, as {@link KerasWeightImporter} loads them: layers named like Keras'
 * EfficientNet ({@code stem_conv}, {@code block2a_dwconv}, {@code top_bn}, {@code predictions}, …), each holding its
 * weights by role ({@code kernel}, {@code depthwise_kernel}, {@code bias}, {@code gamma}, {@code beta},
 * {@code moving_mean}, {@code moving_variance}) in Keras' shapes: conv {@code [kH,kW,in,out]}, depthwise
 * {@code [kH,kW,C,1]}, dense {@code [in,out]}.
 */
public interface WeightTable {

    /** One weight array: its role (e.g. {@code kernel}, {@code moving_variance}), Keras shape and values. */
    record Weight(String role, long[] shape, float[] data) {
        /** Number of elements. */
        public long length() {
            return data.length;
        }
    }

    /** The file the weights come from (for messages). */
    Path path();

    /** All layer names in file order, weightless layers included. */
    List<String> layerNames();

    /** Whether there is a layer of that name. */
    boolean hasLayer(String layer);

    /**
     * The weights of one layer keyed by role, in file order.
     *
     * @throws IOException if the layer is absent or a weight cannot be read
     */
    Map<String, Weight> weights(String layer) throws IOException;

    /**
     * For messages: where a layer's weights come from when the file names them otherwise, e.g.
     * {@code " (from features.3.0.block.1.0)"}; empty when the file uses the layer's name.
     */
    default String origin(String layer) {
        return "";
    }
}
