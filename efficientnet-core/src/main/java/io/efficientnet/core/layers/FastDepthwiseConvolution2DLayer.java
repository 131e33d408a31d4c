package io.efficientnet.core.layers;

import io.efficientnet.core.kernels.DepthwiseKernels;
import io.efficientnet.core.kernels.DirectFloats;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.DepthwiseConvolution2DLayer;
import org.deeplearning4j.nn.params.DepthwiseConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;


/**
 * Runtime of {@link FastDepthwiseConvolution2D}. The forward pass is DL4J's. The backward pass, for an identity
 * activation on NCHW input without weight noise or input dropout:
 * <ul>
 *   <li>skips DL4J's recomputation of the forward pass (it only feeds the activation's derivative, which is 1);</li>
 *   <li>stride 1, k ≥ 5, multiplier 1, padding (k − 1)/2 on each side, float32: the input gradient is the same
 *   convolution with the kernel turned by 180° applied to the output gradient (oneDNN's direct depthwise kernel),
 *   and the weight gradient comes from {@link DepthwiseKernels} instead of oneDNN's im2col + GEMM fallback;</li>
 *   <li>otherwise libnd4j's {@code depthwise_conv2d_bp}, as DL4J calls it.</li>
 * </ul>
 * Anything else goes to DL4J's implementation.
 */
public class FastDepthwiseConvolution2DLayer extends DepthwiseConvolution2DLayer {

    /** Creates the layer (use {@link FastDepthwiseConvolution2D#instantiate}). */
    public FastDepthwiseConvolution2DLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        DepthwiseConvolution2D conf = (DepthwiseConvolution2D) layerConf();
        int[] dilation = conf.getDilation();
        if (!ConvolutionBackprop.direct(conf, input) || dilation[0] != 1 || dilation[1] != 1) {
            return super.backpropGradient(epsilon, workspaceMgr);
        }
        INDArray in = this.input.castTo(dataType);
        INDArray dz = epsilon.castTo(dataType);
        if (dz.ordering() != 'c' || !DirectFloats.denseStrides(dz)) {
            dz = workspaceMgr.dup(ArrayType.BP_WORKING_MEM, dz, 'c');
        }
        INDArray w = getParam(DepthwiseConvolutionParamInitializer.WEIGHT_KEY);
        int kH = (int) w.size(0);
        int kW = (int) w.size(1);
        int[] strides = conf.getStride();
        int inH = (int) in.size(2);
        int inW = (int) in.size(3);
        int[] pad = ConvolutionBackprop.padding(conf, convolutionMode, in);
        INDArray weightGradView = gradientViews.get(DepthwiseConvolutionParamInitializer.WEIGHT_KEY);
        INDArray biasGradView = gradientViews.get(DepthwiseConvolutionParamInitializer.BIAS_KEY);
        INDArray dx = workspaceMgr.create(ArrayType.ACTIVATION_GRAD, dataType, in.shape(), 'c');

        boolean vectorised = kH == kW && kH >= 5 && kH % 2 == 1 && strides[0] == 1 && strides[1] == 1
                && pad[0] == (kH - 1) / 2 && pad[1] == (kW - 1) / 2 && w.size(3) == 1
                && dz.size(2) == inH && dz.size(3) == inW && DepthwiseKernels.accepts(in, dz, weightGradView);
        if (vectorised) {
            // kernel turned by 180°: tap (ky, kx) <- (k−1−ky, k−1−kx), i.e. the k·k rows of [k·k, C] in reverse
            int[] reversed = new int[kH * kW];
            for (int t = 0; t < reversed.length; t++) {
                reversed[t] = reversed.length - 1 - t;
            }
            INDArray flipped = w.reshape('c', (long) kH * kW, w.size(2)).getRows(reversed).reshape('c', w.shape());
            Nd4j.getExecutioner().exec(DynamicCustomOp.builder("depthwise_conv2d")
                    .addInputs(dz, flipped)
                    .addIntegerArguments(kH, kW, 1, 1, pad[0], pad[1], 1, 1, 0, 0)
                    .addOutputs(dx).callInplace(false).build());
            DepthwiseKernels.weightGradient(in, dz, weightGradView, kH);
            if (conf.hasBias()) {
                biasGradView.assign(dz.sum(0, 2, 3).reshape(biasGradView.shape()));
            }
        } else {
            int[] args = {kH, kW, strides[0], strides[1], pad[0], pad[1], dilation[0], dilation[1],
                    convolutionMode == ConvolutionMode.Same ? 1 : 0, 0};
            INDArray[] inputs = conf.hasBias()
                    ? new INDArray[] {in, w, getParam(DepthwiseConvolutionParamInitializer.BIAS_KEY), dz}
                    : new INDArray[] {in, w, dz};
            INDArray[] outputs = conf.hasBias() ? new INDArray[] {dx, weightGradView, biasGradView}
                    : new INDArray[] {dx, weightGradView};
            Nd4j.getExecutioner().exec(DynamicCustomOp.builder("depthwise_conv2d_bp").addInputs(inputs)
                    .addIntegerArguments(args).addOutputs(outputs).callInplace(false).build());
        }
        Gradient g = new DefaultGradient();
        if (conf.hasBias()) {
            g.setGradientFor(DepthwiseConvolutionParamInitializer.BIAS_KEY, biasGradView);
        }
        g.setGradientFor(DepthwiseConvolutionParamInitializer.WEIGHT_KEY, weightGradView, 'c');
        return new Pair<>(g, dx);
    }
}
