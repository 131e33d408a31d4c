package io.efficientnet.core.layers;

import io.efficientnet.core.kernels.BatchNormKernels;
import io.efficientnet.core.kernels.ChannelScaleKernels;
import io.efficientnet.core.kernels.DirectFloats;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.pooling.GlobalPoolingLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Arrays;

/**
 * Runtime of {@link FastGlobalPooling}: for average pooling over H and W of dense float32 NCHW input without a mask,
 * the forward pass is one read (row sums of the {@code [N·C, H·W]} view) and the backward pass one write (each map
 * filled with its gradient / (H·W)); everything else is DL4J's implementation.
 */
public class FastGlobalPoolingLayer extends GlobalPoolingLayer {

    /** Creates the layer (use {@link FastGlobalPooling#instantiate}). */
    public FastGlobalPoolingLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    private boolean fast(INDArray in) {
        org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer conf =
                (org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer) layerConf();
        int[] dims = conf.getPoolingDimensions();
        return conf.getPoolingType() == PoolingType.AVG && maskArray == null && in != null && in.rank() == 4
                && (dims == null || Arrays.equals(dims, new int[] {2, 3})) && in.dataType() == dataType
                && ChannelScaleKernels.accepts(in);
    }

    private long[] outputShape(INDArray in) {
        boolean collapse = ((org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer) layerConf()).isCollapseDimensions();
        return collapse ? new long[] {in.size(0), in.size(1)} : new long[] {in.size(0), in.size(1), 1, 1};
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(false);
        if (!fast(input)) {
            return super.activate(training, workspaceMgr);
        }
        double[] sums = BatchNormKernels.rowSums(input);
        float hw = (float) (input.size(2) * input.size(3));
        float[] means = new float[sums.length];
        for (int i = 0; i < means.length; i++) {
            means[i] = (float) (sums[i] / hw);
        }
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, dataType, outputShape(input), 'c');
        DirectFloats.of(out).asFloatBuffer().put(means);
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        if (!fast(input) || epsilon.length() != input.size(0) * input.size(1)) {
            return super.backpropGradient(epsilon, workspaceMgr);
        }
        float[] grads = epsilon.castTo(DataType.FLOAT).dup('c').data().asFloat();
        float hw = (float) (input.size(2) * input.size(3));
        for (int i = 0; i < grads.length; i++) {
            grads[i] /= hw;
        }
        INDArray dx = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, dataType, input.shape(), 'c');
        ChannelScaleKernels.fillMaps(dx, grads);
        return new Pair<>(new DefaultGradient(), dx);
    }
}
