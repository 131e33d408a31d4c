package io.efficientnet.core;

import io.efficientnet.core.layers.FastGlobalPooling;
import io.efficientnet.core.layers.FastGlobalPoolingLayer;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.stream.Stream;

import static io.efficientnet.core.inference.BatchNormTestSupport.relativeError;
import static org.junit.jupiter.api.Assertions.*;

/** {@link FastGlobalPooling} against DL4J's {@code GlobalPoolingLayer}: output and input gradient. */
class FastGlobalPoolingTest {

    private static final LayerWorkspaceMgr NO_WS = LayerWorkspaceMgr.noWorkspaces();

    /** pooling, collapse, type, [N, C, H, W] (maps of 1×1, below one vector, several sum blocks, thread splits). */
    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(PoolingType.AVG, false, DataType.FLOAT, new long[] {2, 5, 1, 1}),
                Arguments.of(PoolingType.AVG, false, DataType.FLOAT, new long[] {3, 6, 3, 5}),
                Arguments.of(PoolingType.AVG, true, DataType.FLOAT, new long[] {2, 8, 7, 7}),
                Arguments.of(PoolingType.AVG, false, DataType.FLOAT, new long[] {4, 24, 56, 56}),
                Arguments.of(PoolingType.AVG, true, DataType.DOUBLE, new long[] {2, 8, 7, 7}),
                Arguments.of(PoolingType.MAX, true, DataType.FLOAT, new long[] {2, 8, 7, 7}));
    }

    private static Layer instantiate(GlobalPoolingLayer conf, DataType type) {
        NeuralNetConfiguration nnc = new NeuralNetConfiguration.Builder().dataType(type).layer(conf).build();
        return nnc.getLayer().instantiate(nnc, null, 0, null, true, type);
    }

    @ParameterizedTest
    @MethodSource("cases")
    void matchesDl4j(PoolingType pooling, boolean collapse, DataType type, long[] shape) {
        Layer dl4j = instantiate(new GlobalPoolingLayer.Builder(pooling).collapseDimensions(collapse).build(), type);
        Layer fast = instantiate(new FastGlobalPooling(pooling, collapse), type);
        assertInstanceOf(FastGlobalPoolingLayer.class, fast);
        Nd4j.getRandom().setSeed(shape[2]);
        INDArray x = Nd4j.randn(type, shape).addi(0.5);
        INDArray[] a = run(dl4j, x);
        INDArray[] b = run(fast, x);
        // float32: DL4J sums a map in float, this layer in double over float blocks, so the last bits may differ
        double tol = type == DataType.DOUBLE ? 1e-12 : 1e-5;
        assertArrayEquals(a[0].shape(), b[0].shape(), "output shape");
        assertTrue(relativeError(b[0], a[0]) < tol, "output: " + relativeError(b[0], a[0]));
        assertArrayEquals(a[1].shape(), b[1].shape(), "dx shape");
        assertTrue(relativeError(b[1], a[1]) < tol, "dx: " + relativeError(b[1], a[1]));
    }

    private static INDArray[] run(Layer layer, INDArray x) {
        layer.setInput(x.dup(), NO_WS);
        INDArray out = layer.activate(true, NO_WS).dup();
        Nd4j.getRandom().setSeed(3);
        INDArray eps = Nd4j.randn(out.dataType(), out.shape());
        return new INDArray[] {out, layer.backpropGradient(eps, NO_WS).getSecond().dup()};
    }
}
