package io.efficientnet.core.layers;

import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Runtime of {@link FastConvolution2D}. The forward pass is DL4J's (with its oneDNN helper). For an identity
 * activation on NCHW input without weight noise or input dropout, the backward pass is one libnd4j
 * {@code conv2d_bp} call (oneDNN's backward-data and backward-weights primitives, as DL4J's helper calls them) without
 * DL4J's recomputation of the forward pass, whose only use there is the activation's derivative (1 for identity).
 * Anything else goes to DL4J's implementation.
 */
public class FastConvolution2DLayer extends ConvolutionLayer {

    /** Creates the layer (use {@link FastConvolution2D#instantiate}). */
    public FastConvolution2DLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        org.deeplearning4j.nn.conf.layers.ConvolutionLayer conf = layerConf();
        if (!ConvolutionBackprop.direct(conf, input)) {
            return super.backpropGradient(epsilon, workspaceMgr);
        }
        INDArray in = input.castTo(dataType);
        INDArray dz = epsilon.castTo(dataType);
        INDArray w = getParam(ConvolutionParamInitializer.WEIGHT_KEY);
        int[] kernel = conf.getKernelSize();
        int[] strides = conf.getStride();
        int[] dilation = conf.getDilation();
        int[] pad = ConvolutionBackprop.padding(conf, convolutionMode, in);
        INDArray weightGradView = gradientViews.get(ConvolutionParamInitializer.WEIGHT_KEY);
        INDArray biasGradView = gradientViews.get(ConvolutionParamInitializer.BIAS_KEY);
        INDArray dx = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, dataType, in.shape(), 'c');
        boolean bias = conf.hasBias();
        INDArray[] inputs = bias ? new INDArray[] {in, w, getParam(ConvolutionParamInitializer.BIAS_KEY), dz}
                : new INDArray[] {in, w, dz};
        INDArray[] outputs = bias ? new INDArray[] {dx, weightGradView, biasGradView}
                : new INDArray[] {dx, weightGradView};
        // iArgs: kernel, strides, padding, dilation, SAME mode, NCHW (0), weights [oC, iC, kH, kW] (1)
        Nd4j.getExecutioner().exec(DynamicCustomOp.builder("conv2d_bp").addInputs(inputs)
                .addIntegerArguments(kernel[0], kernel[1], strides[0], strides[1], pad[0], pad[1], dilation[0],
                        dilation[1], convolutionMode == ConvolutionMode.Same ? 1 : 0, 0, 1)
                .addOutputs(outputs).callInplace(false).build());
        Gradient g = new DefaultGradient();
        if (bias) {
            g.setGradientFor(ConvolutionParamInitializer.BIAS_KEY, biasGradView);
        }
        g.setGradientFor(ConvolutionParamInitializer.WEIGHT_KEY, weightGradView, 'c');
        return new Pair<>(g, dx);
    }
}
