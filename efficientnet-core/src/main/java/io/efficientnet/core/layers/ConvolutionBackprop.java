package io.efficientnet.core.layers;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.ndarray.INDArray;

/** What {@link FastConvolution2DLayer} and {@link FastDepthwiseConvolution2DLayer} decide alike in backprop. */
final class ConvolutionBackprop {

    private ConvolutionBackprop() {
    }

    /**
     * Whether the backward pass may go straight to libnd4j's op with the output gradient: rank-4 NCHW input, identity
     * activation (so the forward pass DL4J recomputes is not needed), no weight noise, no input dropout.
     */
    static boolean direct(ConvolutionLayer conf, INDArray input) {
        return input.rank() == 4 && conf.getCnn2dDataFormat() == CNN2DFormat.NCHW
                && conf.getActivationFn() instanceof ActivationIdentity && conf.getWeightNoise() == null
                && conf.getIDropout() == null;
    }

    /** Top and left padding as DL4J's layers compute it: from SAME mode, or the configured padding. */
    static int[] padding(ConvolutionLayer conf, ConvolutionMode mode, INDArray in) {
        if (mode != ConvolutionMode.Same) {
            return conf.getPadding();
        }
        int[] outSize = ConvolutionUtils.getOutputSize(in, conf.getKernelSize(), conf.getStride(), null, mode,
                conf.getDilation(), CNN2DFormat.NCHW);
        return ConvolutionUtils.getSameModeTopLeftPadding(outSize, new int[] {(int) in.size(2), (int) in.size(3)},
                conf.getKernelSize(), conf.getStride(), conf.getDilation());
    }
}
