package io.efficientnet.core;

import io.efficientnet.core.layers.FastConvolution2D;
import io.efficientnet.core.layers.FastConvolution2DLayer;
import io.efficientnet.core.layers.FastDepthwiseConvolution2D;
import io.efficientnet.core.layers.FastDepthwiseConvolution2DLayer;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import java.util.stream.Stream;

import static io.efficientnet.core.inference.BatchNormTestSupport.relativeError;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link FastDepthwiseConvolution2D} and {@link FastConvolution2D} against DL4J's {@code DepthwiseConvolution2D} and
 * {@code ConvolutionLayer}: forward output, input gradient, weight and bias gradients, on the vectorised depthwise path
 * (stride 1, k ≥ 5, float32), the {@code depthwise_conv2d_bp} / {@code conv2d_bp} paths without the recomputed
 * forward pass, and the cases left to DL4J; and the whole gradient of a small EfficientNet.
 */
class FastConvolutionsTest {

    private static final LayerWorkspaceMgr NO_WS = LayerWorkspaceMgr.noWorkspaces();

    /** type, [N, C, H, W], kernel, stride, SAME (else explicit padding (k−1)/2), bias, activation. */
    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(DataType.FLOAT, new long[] {2, 6, 14, 14}, 5, 1, true, false, Activation.IDENTITY),
                Arguments.of(DataType.FLOAT, new long[] {3, 5, 7, 7}, 5, 1, true, false, Activation.IDENTITY),
                Arguments.of(DataType.FLOAT, new long[] {1, 4, 13, 9}, 5, 1, false, true, Activation.IDENTITY),
                Arguments.of(DataType.FLOAT, new long[] {2, 3, 4, 4}, 7, 1, true, true, Activation.IDENTITY),
                Arguments.of(DataType.FLOAT, new long[] {2, 3, 2, 3}, 5, 1, true, false, Activation.IDENTITY),
                Arguments.of(DataType.FLOAT, new long[] {2, 70, 28, 28}, 5, 1, true, false, Activation.IDENTITY),
                Arguments.of(DataType.FLOAT, new long[] {2, 6, 14, 14}, 3, 1, true, false, Activation.IDENTITY),
                Arguments.of(DataType.FLOAT, new long[] {2, 6, 15, 15}, 5, 2, true, false, Activation.IDENTITY),
                Arguments.of(DataType.DOUBLE, new long[] {2, 6, 14, 14}, 5, 1, true, true, Activation.IDENTITY),
                Arguments.of(DataType.FLOAT, new long[] {2, 6, 14, 14}, 5, 1, true, false, Activation.TANH));
    }

    private static Layer instantiate(ConvolutionLayer conf, DataType type, ConvolutionMode mode) {
        NeuralNetConfiguration nnc = new NeuralNetConfiguration.Builder().dataType(type).convolutionMode(mode)
                .layer(conf).build();
        long n = conf.initializer().numParams(nnc);
        Layer layer = nnc.getLayer().instantiate(nnc, null, 0, Nd4j.create(type, 1, n), true, type);
        layer.setBackpropGradientsViewArray(Nd4j.create(type, 1, n));
        return layer;
    }

    private static DepthwiseConvolution2D.Builder builder(long channels, int k, int stride, boolean same,
            boolean bias, Activation activation) {
        DepthwiseConvolution2D.Builder b = new DepthwiseConvolution2D.Builder(k, k).stride(stride, stride)
                .nIn(channels).nOut(channels).depthMultiplier(1).hasBias(bias).activation(activation);
        if (!same) {
            b.padding((k - 1) / 2, (k - 1) / 2);
        }
        return b;
    }

    @ParameterizedTest
    @MethodSource("cases")
    void depthwiseGradientsMatchDl4j(DataType type, long[] shape, int k, int stride, boolean same, boolean bias,
            Activation activation) {
        ConvolutionMode mode = same ? ConvolutionMode.Same : ConvolutionMode.Truncate;
        Layer dl4j = instantiate(builder(shape[1], k, stride, same, bias, activation).build(), type, mode);
        Layer fast = instantiate(new FastDepthwiseConvolution2D(builder(shape[1], k, stride, same, bias, activation)),
                type, mode);
        assertInstanceOf(FastDepthwiseConvolution2DLayer.class, fast);
        compare(dl4j, fast, type, shape);
    }

    /** Same parameters into both layers, then every result of {@link #run} compared. */
    private static void compare(Layer dl4j, Layer fast, DataType type, long[] shape) {
        Nd4j.getRandom().setSeed(17);
        // parameter by parameter: M2.1's depthwise layer does not read setParams(params()) back in the same order
        for (String key : dl4j.paramTable().keySet()) {
            INDArray value = Nd4j.randn(type, dl4j.getParam(key).shape());
            dl4j.setParam(key, value);
            fast.setParam(key, value.dup());
        }
        INDArray x = Nd4j.randn(type, shape);
        INDArray[] a = run(dl4j, x);
        INDArray[] b = run(fast, x);
        String[] names = {"output", "dx", "dW", "db"};
        double tol = type == DataType.DOUBLE ? 1e-10 : 1e-5;
        for (int i = 0; i < names.length; i++) {
            if (a[i] == null) {
                assertNull(b[i], names[i]);
                continue;
            }
            assertArrayEquals(a[i].shape(), b[i].shape(), names[i]);
            double err = relativeError(b[i], a[i]);
            assertTrue(err < tol, names[i] + ": relative error " + err);
        }
    }

    /** type, [N, C, H, W], output channels, kernel, stride, SAME (else explicit padding (k−1)/2), bias, activation. */
    static Stream<Arguments> convolutionCases() {
        return Stream.of(
                Arguments.of(DataType.FLOAT, new long[] {2, 16, 14, 14}, 24, 1, 1, true, false, Activation.IDENTITY),
                Arguments.of(DataType.FLOAT, new long[] {3, 40, 7, 9}, 8, 1, 1, true, true, Activation.IDENTITY),
                Arguments.of(DataType.FLOAT, new long[] {2, 3, 17, 16}, 8, 3, 2, true, false, Activation.IDENTITY),
                Arguments.of(DataType.FLOAT, new long[] {2, 3, 16, 16}, 8, 3, 1, false, true, Activation.IDENTITY),
                Arguments.of(DataType.DOUBLE, new long[] {2, 16, 14, 14}, 24, 1, 1, true, true, Activation.IDENTITY),
                Arguments.of(DataType.DOUBLE, new long[] {2, 3, 15, 15}, 8, 3, 2, true, false, Activation.IDENTITY),
                Arguments.of(DataType.FLOAT, new long[] {2, 16, 14, 14}, 24, 1, 1, true, false, Activation.SIGMOID));
    }

    @ParameterizedTest
    @MethodSource("convolutionCases")
    void convolutionGradientsMatchDl4j(DataType type, long[] shape, int out, int k, int stride, boolean same,
            boolean bias, Activation activation) {
        ConvolutionMode mode = same ? ConvolutionMode.Same : ConvolutionMode.Truncate;
        java.util.function.Supplier<ConvolutionLayer.Builder> builder = () -> {
            ConvolutionLayer.Builder b = new ConvolutionLayer.Builder(k, k).stride(stride, stride).nIn(shape[1])
                    .nOut(out).hasBias(bias).activation(activation);
            return same ? b : b.padding((k - 1) / 2, (k - 1) / 2);
        };
        Layer dl4j = instantiate(builder.get().build(), type, mode);
        Layer fast = instantiate(new FastConvolution2D(builder.get()), type, mode);
        assertInstanceOf(FastConvolution2DLayer.class, fast);
        compare(dl4j, fast, type, shape);
    }

    /** Output, input gradient, weight gradient, bias gradient (null without bias). */
    private static INDArray[] run(Layer layer, INDArray x) {
        layer.setInput(x.dup(), NO_WS);
        INDArray out = layer.activate(true, NO_WS).dup();
        Nd4j.getRandom().setSeed(23);
        INDArray eps = Nd4j.randn(out.dataType(), out.shape());
        Pair<Gradient, INDArray> bp = layer.backpropGradient(eps, NO_WS);
        INDArray db = bp.getFirst().getGradientFor("b");
        return new INDArray[] {out, bp.getSecond().dup(), bp.getFirst().getGradientFor("W").dup(),
                db == null ? null : db.dup()};
    }

    private static ComputationGraph smallNet(DataType type, boolean fastConvolutions) {
        return EfficientNet.builder().phi(-3).resolution(64).numClasses(3).updater(new Sgd(0.05)).dataType(type)
                .dropoutRate(0).dropPathRate(0).fastConvolutions(fastConvolutions).build().init();
    }

    private static INDArray gradient(ComputationGraph net, INDArray x, INDArray y) {
        net.setInputs(x.castTo(net.params().dataType()));
        net.setLabels(y.castTo(net.params().dataType()));
        net.computeGradientAndScore();
        return net.gradient().gradient().dup();
    }

    /**
     * The whole gradient of a small EfficientNet (5×5 stride-1 blocks included; dropout and drop-path off) with either
     * depthwise layer: in double equal to DL4J's (the {@code depthwise_conv2d_bp} path), in float32 (the vectorised
     * path) as close to the double-precision gradient as DL4J's own float32 gradient is.
     */
    @Test
    void efficientNetGradientsMatchDl4j() {
        ComputationGraph reference = smallNet(DataType.DOUBLE, false);
        ComputationGraph probe = smallNet(DataType.FLOAT, true);
        assertInstanceOf(FastDepthwiseConvolution2D.class, probe.getLayer("block3b_dwconv").conf().getLayer());
        assertInstanceOf(FastConvolution2D.class, probe.getLayer("block3b_expand_conv").conf().getLayer());
        assertEquals(ConvolutionLayer.class, probe.getLayer("block3b_se_reduce").conf().getLayer().getClass());
        assertEquals(5, ((DepthwiseConvolution2D) reference.getLayer("block3b_dwconv").conf().getLayer())
                .getKernelSize()[0], "the test covers 5×5 stride-1 blocks");
        Nd4j.getRandom().setSeed(29);
        INDArray x = Nd4j.randn(DataType.DOUBLE, 4, 3, 64, 64);
        INDArray y = Nd4j.eye(3).castTo(DataType.DOUBLE).getRows(0, 1, 2, 1);
        INDArray ref = gradient(reference, x, y);

        ComputationGraph fastDouble = smallNet(DataType.DOUBLE, true);
        fastDouble.setParams(reference.params().dup());
        double errDouble = relativeError(gradient(fastDouble, x, y), ref);
        assertTrue(errDouble < 1e-9, "double: " + errDouble);

        ComputationGraph dl4jFloat = smallNet(DataType.FLOAT, false);
        ComputationGraph fastFloat = smallNet(DataType.FLOAT, true);
        dl4jFloat.setParams(reference.params().castTo(DataType.FLOAT));
        fastFloat.setParams(reference.params().castTo(DataType.FLOAT));
        double errDl4j = relativeError(gradient(dl4jFloat, x, y).castTo(DataType.DOUBLE), ref);
        double errFast = relativeError(gradient(fastFloat, x, y).castTo(DataType.DOUBLE), ref);
        assertTrue(errFast <= 2 * errDl4j + 1e-6, "float32 against double: fast " + errFast + ", DL4J " + errDl4j);
    }
}
