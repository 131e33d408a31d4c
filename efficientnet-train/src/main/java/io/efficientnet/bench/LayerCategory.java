package io.efficientnet.bench;

import io.efficientnet.core.layers.ChannelScaleVertex;
import io.efficientnet.core.layers.FastBatchNormalization;
import io.efficientnet.core.layers.FastConvolution2D;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;

/** The layer types a profile groups time by, decided from the vertex configuration and its input shape. */
public enum LayerCategory {
    CONV_1X1("conv 1x1"),
    CONV_KXK("conv kxk (stem)"),
    DEPTHWISE("depthwise conv"),
    BATCH_NORM("batch norm"),
    BATCH_NORM_SWISH("batch norm + swish (fused)"),
    ACTIVATION("activation"),
    SE_CONV("SE 1x1 convs (on pooled 1x1 maps)"),
    SE_SCALE("SE channel-scale vertex"),
    POOLING("pooling"),
    DROPOUT("dropout / drop-path"),
    ADD("skip add"),
    DENSE("dense / output layer + loss"),
    OTHER("other");

    private final String label;

    LayerCategory(String label) {
        this.label = label;
    }

    /** Human-readable name used in reports. */
    public String label() {
        return label;
    }

    /**
     * The category of a vertex.
     *
     * @param vertex configuration of the vertex
     * @param input  activation type of its (first) input, or null if unknown
     */
    public static LayerCategory of(GraphVertex vertex, InputType input) {
        if (vertex instanceof ChannelScaleVertex) {
            return SE_SCALE;
        }
        if (vertex instanceof ElementWiseVertex) {
            return ADD;
        }
        if (!(vertex instanceof LayerVertex lv)) {
            return OTHER;
        }
        Layer layer = lv.getLayerConf().getLayer();
        if (layer instanceof DepthwiseConvolution2D) {
            return DEPTHWISE;
        }
        if (layer instanceof ConvolutionLayer conv
                && (conv.getClass() == ConvolutionLayer.class || conv.getClass() == FastConvolution2D.class)) {
            if (input instanceof InputType.InputTypeConvolutional c && c.getHeight() == 1 && c.getWidth() == 1) {
                return SE_CONV;
            }
            int[] k = conv.getKernelSize();
            return k[0] == 1 && k[1] == 1 ? CONV_1X1 : CONV_KXK;
        }
        if (layer instanceof FastBatchNormalization f && f.isSwish()) {
            return BATCH_NORM_SWISH;
        }
        if (layer instanceof BatchNormalization) {
            return BATCH_NORM;
        }
        if (layer instanceof ActivationLayer) {
            return ACTIVATION;
        }
        if (layer instanceof GlobalPoolingLayer || layer instanceof SubsamplingLayer) {
            return POOLING;
        }
        if (layer instanceof DropoutLayer) {
            return DROPOUT;
        }
        if (layer instanceof BaseOutputLayer || layer instanceof DenseLayer) {
            return DENSE;
        }
        return OTHER;
    }
}
