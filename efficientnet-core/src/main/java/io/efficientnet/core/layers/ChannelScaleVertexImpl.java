package io.efficientnet.core.layers;

import io.efficientnet.core.kernels.ChannelScaleKernels;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.BaseGraphVertex;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Runtime of {@link ChannelScaleVertex}: {@code out[n,c,h,w] = x[n,c,h,w] · g[n,c]}; dense float32 arrays through
 * {@link ChannelScaleKernels} (one pass each way), others through ND4J's broadcast operations.
 */
public class ChannelScaleVertexImpl extends BaseGraphVertex {

    /** Creates the runtime vertex. */
    public ChannelScaleVertexImpl(ComputationGraph graph, String name, int vertexIndex, DataType dataType) {
        super(graph, name, vertexIndex, null, null, dataType);
    }

    @Override
    public boolean hasLayer() {
        return false;
    }

    @Override
    public Layer getLayer() {
        return null;
    }

    /** The gate values in [n·C + c] order as floats. */
    private static float[] floats(INDArray gate) {
        return gate.castTo(DataType.FLOAT).dup('c').data().asFloat();
    }

    private static INDArray gateMatrix(INDArray gate) {
        return gate.rank() == 2 ? gate : gate.reshape(gate.size(0), gate.size(1));
    }

    @Override
    public INDArray doForward(boolean training, LayerWorkspaceMgr workspaceMgr) {
        if (!canDoForward()) {
            throw new IllegalStateException("Cannot do forward pass in vertex " + vertexName + ": inputs not set");
        }
        INDArray x = inputs[0];
        INDArray g = gateMatrix(inputs[1]);
        if (x.rank() != 4 || g.size(0) != x.size(0) || g.size(1) != x.size(1)) {
            throw new IllegalStateException("Vertex " + vertexName + ": expected features [N,C,H,W] and gate [N,C,1,1], got "
                    + java.util.Arrays.toString(x.shape()) + " and " + java.util.Arrays.toString(inputs[1].shape()));
        }
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, x.dataType(), x.shape(), 'c');
        if (ChannelScaleKernels.accepts(x, out)) {
            ChannelScaleKernels.forward(x, out, floats(g));
            return out;
        }
        Nd4j.getExecutioner().exec(new BroadcastMulOp(x, g.castTo(x.dataType()), out, 0, 1));
        return out;
    }

    @Override
    public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr workspaceMgr) {
        if (!canDoBackward()) {
            throw new IllegalStateException("Cannot do backward pass in vertex " + vertexName + ": epsilon not set");
        }
        INDArray x = inputs[0];
        INDArray g = gateMatrix(inputs[1]);
        INDArray dx = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, epsilon.dataType(), x.shape(), 'c');
        // dL/dg[n,c] = sum_{h,w} eps[n,c,h,w] * x[n,c,h,w]
        INDArray dg = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, epsilon.dataType(),
                inputs[1].shape(), 'c');
        if (ChannelScaleKernels.accepts(x, epsilon, dx)) {
            double[] sums = ChannelScaleKernels.backward(x, epsilon, dx, floats(g));
            dg.assign(Nd4j.createFromArray(sums).castTo(dg.dataType()).reshape(dg.shape()));
            return new Pair<>(null, new INDArray[] {dx, dg});
        }
        Nd4j.getExecutioner().exec(new BroadcastMulOp(epsilon, g, dx, 0, 1));
        INDArray prod = epsilon.mul(x);
        dg.assign(prod.sum(2, 3).reshape(inputs[1].shape()));
        return new Pair<>(null, new INDArray[] {dx, dg});
    }

    @Override
    public void setBackpropGradientsViewArray(INDArray backpropGradientsViewArray) {
        if (backpropGradientsViewArray != null) {
            throw new IllegalStateException("Vertex " + vertexName + " has no parameters");
        }
    }

    @Override
    public Pair<INDArray, MaskState> feedForwardMaskArrays(INDArray[] maskArrays, MaskState currentMaskState,
            int minibatchSize) {
        return new Pair<>(maskArrays == null || maskArrays.length == 0 ? null : maskArrays[0], currentMaskState);
    }

    @Override
    public String toString() {
        return "ChannelScaleVertex(id=" + vertexIndex + ",name=\"" + vertexName + "\")";
    }
}
