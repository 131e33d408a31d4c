package io.efficientnet.core.kernels;

import io.efficientnet.core.layers.ChannelScaleVertexImpl;
import org.deeplearning4j.nn.graph.vertex.VertexIndices;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static io.efficientnet.core.inference.BatchNormTestSupport.relativeError;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ChannelScaleKernels} through the squeeze-excitation vertex: in float32 (the vectorised path) the output and
 * both input gradients (features, gate) equal the double-precision results (ND4J's path) to float rounding.
 */
@Tag("numeric")
class ChannelScaleKernelsTest {

    /** Output, dL/dx, dL/dgate of one vertex pass. */
    private static INDArray[] run(DataType type, INDArray x, INDArray g, INDArray eps) {
        ChannelScaleVertexImpl vertex = new ChannelScaleVertexImpl(null, "excite", 0, type);
        LayerWorkspaceMgr ws = LayerWorkspaceMgr.noWorkspaces();
        vertex.setInputVertices(new VertexIndices[] {new VertexIndices(0, 0), new VertexIndices(1, 0)});
        vertex.setInput(0, x.castTo(type), ws);
        vertex.setInput(1, g.castTo(type), ws);
        INDArray out = vertex.doForward(true, ws).dup();
        vertex.setEpsilon(eps.castTo(type));
        INDArray[] grads = vertex.doBackward(false, ws).getSecond();
        return new INDArray[] {out, grads[0].dup(), grads[1].dup()};
    }

    /** Map sizes: below one vector with a tail, several sum blocks, and enough elements to split over threads. */
    @ParameterizedTest
    @ValueSource(ints = {1, 3, 7, 30, 112})
    void floatMatchesDouble(int size) {
        int n = 4;
        int c = size >= 30 ? 24 : 5;
        Nd4j.getRandom().setSeed(size);
        INDArray x = Nd4j.randn(DataType.DOUBLE, n, c, size, size);
        INDArray g = Nd4j.rand(DataType.DOUBLE, n, c, 1, 1);
        INDArray eps = Nd4j.randn(DataType.DOUBLE, n, c, size, size);
        assertTrue(ChannelScaleKernels.accepts(x.castTo(DataType.FLOAT)), "float32 takes the vectorised path");
        INDArray[] exact = run(DataType.DOUBLE, x, g, eps);
        INDArray[] single = run(DataType.FLOAT, x, g, eps);
        String[] names = {"output", "dL/dx", "dL/dgate"};
        for (int i = 0; i < names.length; i++) {
            assertArrayEquals(exact[i].shape(), single[i].shape(), names[i]);
            double err = relativeError(single[i].castTo(DataType.DOUBLE), exact[i]);
            // one float32 product per output, a float32 sum over the map for dL/dgate (size² ≤ 3600 terms,
            // relative error a few 2⁻²⁴·√terms): 1e-5 relative covers both with headroom
            assertTrue(err < 1e-5, names[i] + ": " + err);
        }
    }
}
