package io.efficientnet.core;

import io.efficientnet.core.inference.BatchNormTestSupport;
import io.efficientnet.core.layers.FastBatchNormalization;
import io.efficientnet.core.layers.FastBatchNormalizationLayer;
import io.efficientnet.core.layers.StableSwish;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import java.io.File;
import java.util.stream.Stream;

import static io.efficientnet.core.Float64Checks.assertAsCloseToExact;
import static io.efficientnet.core.inference.BatchNormTestSupport.batchNormClassifier;
import static io.efficientnet.core.inference.BatchNormTestSupport.relativeError;
import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link FastBatchNormalization} against DL4J's {@code BatchNormalization}: layer outputs, gradients and running
 * statistics, a few training steps of a small graph and of a small EfficientNet, serialization.
 */
@Tag("numeric")
class FastBatchNormalizationTest {

    private static final LayerWorkspaceMgr NO_WS = LayerWorkspaceMgr.noWorkspaces();

    static Stream<Arguments> shapes() {
        return Stream.of(
                Arguments.of(DataType.FLOAT, new long[] {2, 3, 5, 7}),
                Arguments.of(DataType.FLOAT, new long[] {1, 4, 3, 3}),
                Arguments.of(DataType.FLOAT, new long[] {2, 5, 1, 1}),
                Arguments.of(DataType.FLOAT, new long[] {3, 6, 9, 11}),
                Arguments.of(DataType.FLOAT, new long[] {4, 16, 14, 14}),
                Arguments.of(DataType.DOUBLE, new long[] {2, 3, 5, 7}),
                Arguments.of(DataType.DOUBLE, new long[] {1, 4, 3, 3}));
    }

    /** Both layers with the same random γ, β and running statistics. */
    private static Layer[] layerPair(DataType type, int channels, double eps, double decay) {
        Layer dl4j = instantiate(new BatchNormalization.Builder().nIn(channels).nOut(channels).eps(eps).decay(decay)
                .build(), type);
        Layer fast = instantiate(new FastBatchNormalization(channels, eps, decay), type);
        assertInstanceOf(FastBatchNormalizationLayer.class, fast);
        Nd4j.getRandom().setSeed(7);
        dl4j.setParam("gamma", Nd4j.rand(type, 1, channels).addi(0.5));
        dl4j.setParam("beta", Nd4j.randn(type, 1, channels));
        dl4j.setParam("mean", Nd4j.randn(type, 1, channels));
        dl4j.setParam("log10stdev", Nd4j.randn(type, 1, channels).muli(0.3));
        INDArray params = dl4j.params();
        fast.setParams(params.dup());
        return new Layer[] {dl4j, fast};
    }

    private static Layer instantiate(BatchNormalization conf, DataType type) {
        NeuralNetConfiguration nnc = new NeuralNetConfiguration.Builder().dataType(type).layer(conf).build();
        long n = conf.initializer().numParams(nnc);
        Layer layer = nnc.getLayer().instantiate(nnc, null, 0, Nd4j.create(type, 1, n), true, type);
        layer.setBackpropGradientsViewArray(Nd4j.create(type, 1, n));
        return layer;
    }

    private static double tolerance(DataType type) {
        return type == DataType.DOUBLE ? 1e-10 : 1e-5;
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void forwardBackwardAndRunningStatisticsMatchDl4j(DataType type, long[] shape) {
        Nd4j.getRandom().setSeed(11);
        INDArray x = Nd4j.randn(DataType.DOUBLE, shape).muli(2).addi(0.5);
        INDArray dy = Nd4j.randn(DataType.DOUBLE, shape);
        int c = (int) shape[1];
        INDArray[] ref = bothModes(layerPair(DataType.DOUBLE, c, 1e-3, 0.9)[0], x, dy);
        Layer[] pair = layerPair(type, c, 1e-3, 0.9);
        INDArray[] dl4j = bothModes(pair[0], x.castTo(type), dy.castTo(type));
        INDArray[] fast = bothModes(pair[1], x.castTo(type), dy.castTo(type));
        String[] names = {"training output", "dx", "dgamma", "dbeta", "mean update", "log10stdev update",
                "inference output"};
        for (int i = 0; i < names.length; i++) {
            assertArrayEquals(dl4j[i].shape(), fast[i].reshape(dl4j[i].shape()).shape(), names[i]);
            double err = relativeError(fast[i].reshape(dl4j[i].shape()), dl4j[i]);
            if (type == DataType.DOUBLE) {
                assertTrue(err < 1e-10, names[i] + ": " + err);
            } else if (err >= 1e-5) {
                // float32 rounding; where the result cancels (e.g. dx with 2 values per channel), hold both to the
                // double-precision result instead
                double errFast = relativeError(fast[i].castTo(DataType.DOUBLE).reshape(ref[i].shape()), ref[i]);
                double errDl4j = relativeError(dl4j[i].castTo(DataType.DOUBLE), ref[i]);
                assertTrue(errFast <= 2 * errDl4j + 1e-6,
                        names[i] + ": " + err + " from DL4J; against double: fast " + errFast + ", DL4J " + errDl4j);
            }
        }
    }

    /** Training output, dx, the four parameter gradients, then the inference output (running statistics). */
    private static INDArray[] bothModes(Layer layer, INDArray x, INDArray dy) {
        layer.setInput(x.dup(), NO_WS);
        INDArray out = layer.activate(true, NO_WS).dup();
        Pair<Gradient, INDArray> bp = layer.backpropGradient(dy.dup(), NO_WS);
        Gradient g = bp.getFirst();
        INDArray[] r = {out, bp.getSecond().dup(), g.getGradientFor("gamma").dup(), g.getGradientFor("beta").dup(),
                g.getGradientFor("mean").dup(), g.getGradientFor("log10stdev").dup(), null};
        layer.setInput(x.dup(), NO_WS);
        r[6] = layer.activate(false, NO_WS).dup();
        return r;
    }

    /**
     * {@code FastBatchNormalization} with fused swish against DL4J's batch norm followed by {@link StableSwish}:
     * output, dx, all parameter gradients, inference output; float32 through the vectorised passes, double through
     * the ND4J ones.
     */
    @ParameterizedTest
    @MethodSource("shapes")
    void fusedSwishEqualsBatchNormThenSwish(DataType type, long[] shape) {
        Nd4j.getRandom().setSeed(13);
        INDArray x = Nd4j.randn(DataType.DOUBLE, shape).muli(2).addi(0.5);
        INDArray dy = Nd4j.randn(DataType.DOUBLE, shape);
        int c = (int) shape[1];
        INDArray[] ref = bnThenSwish(layerPair(DataType.DOUBLE, c, 1e-3, 0.9)[0], x, dy);
        Layer[] pair = layerPair(type, c, 1e-3, 0.9);
        Layer fused = instantiate(new FastBatchNormalization(c, 1e-3, 0.9, true), type);
        fused.setParams(pair[0].params().dup());
        INDArray[] dl4j = bnThenSwish(pair[0], x.castTo(type), dy.castTo(type));
        INDArray[] mine = bothModes(fused, x.castTo(type), dy.castTo(type));
        String[] names = {"training output", "dx", "dgamma", "dbeta", "mean update", "log10stdev update",
                "inference output"};
        for (int i = 0; i < names.length; i++) {
            INDArray got = mine[i].reshape(dl4j[i].shape());
            double err = relativeError(got, dl4j[i]);
            if (type == DataType.DOUBLE) {
                assertTrue(err < 1e-10, names[i] + ": " + err);
            } else if (err >= 1e-5) {
                double errFused = relativeError(got.castTo(DataType.DOUBLE), ref[i]);
                double errDl4j = relativeError(dl4j[i].castTo(DataType.DOUBLE), ref[i]);
                assertTrue(errFused <= 2 * errDl4j + 1e-6,
                        names[i] + ": " + err + " from DL4J; against double: fused " + errFused + ", DL4J " + errDl4j);
            }
        }
    }

    /** {@link #bothModes} of a batch norm followed by swish, composed by hand. */
    private static INDArray[] bnThenSwish(Layer bn, INDArray x, INDArray dy) {
        StableSwish swish = new StableSwish();
        bn.setInput(x.dup(), NO_WS);
        INDArray z = bn.activate(true, NO_WS).dup();
        INDArray out = swish.getActivation(z.dup(), true);
        INDArray dz = swish.backprop(z.dup(), dy.dup()).getFirst();
        Pair<Gradient, INDArray> bp = bn.backpropGradient(dz, NO_WS);
        Gradient g = bp.getFirst();
        INDArray[] r = {out, bp.getSecond().dup(), g.getGradientFor("gamma").dup(), g.getGradientFor("beta").dup(),
                g.getGradientFor("mean").dup(), g.getGradientFor("log10stdev").dup(), null};
        bn.setInput(x.dup(), NO_WS);
        r[6] = swish.getActivation(bn.activate(false, NO_WS).dup(), false);
        return r;
    }

    static Stream<Arguments> delegatedCases() {
        return Stream.of(Arguments.of("NHWC", new long[] {2, 5, 4, 3}),
                Arguments.of("lockGammaBeta", new long[] {2, 3, 4, 5}),
                Arguments.of("rank 2", new long[] {6, 3}));
    }

    /** NHWC, locked γ/β and dense (rank 2) input go through DL4J's own code: identical results. */
    @ParameterizedTest
    @MethodSource("delegatedCases")
    void casesLeftToDl4jGiveItsResults(String name, long[] shape) {
        int c = (int) (name.equals("NHWC") ? shape[3] : shape[1]);
        BatchNormalization[] confs = {new BatchNormalization.Builder().nIn(c).nOut(c).eps(1e-3).decay(0.9).build(),
                new FastBatchNormalization(c, 1e-3, 0.9)};
        for (BatchNormalization conf : confs) {
            if (name.equals("NHWC")) {
                conf.setCnn2DFormat(org.deeplearning4j.nn.conf.CNN2DFormat.NHWC);
            } else if (name.equals("lockGammaBeta")) {
                conf.setLockGammaBeta(true);
                conf.setGamma(1.5);
                conf.setBeta(0.25);
            }
        }
        Layer dl4j = instantiate(confs[0], DataType.DOUBLE);
        Layer fast = instantiate(confs[1], DataType.DOUBLE);
        fast.setParams(dl4j.params().dup());
        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.randn(DataType.DOUBLE, shape);
        INDArray dy = Nd4j.randn(DataType.DOUBLE, shape);
        INDArray[] a = run(dl4j, x.dup(), dy.dup());
        INDArray[] b = run(fast, x.dup(), dy.dup());
        assertEquals(a[0], b[0], name + " output");
        assertEquals(a[1], b[1], name + " dx");

        // the same case with fused swish: DL4J's batch norm, then swish applied (and differentiated) around it
        FastBatchNormalization fusedConf = (FastBatchNormalization) confs[1].clone();
        fusedConf.setSwish(true);
        Layer fused = instantiate(fusedConf, DataType.DOUBLE);
        fused.setParams(dl4j.params().dup());
        StableSwish swish = new StableSwish();
        INDArray z = a[0];
        INDArray[] f = run(fused, x.dup(), dy.dup());
        assertTrue(relativeError(swish.getActivation(z.dup(), true), f[0]) < 1e-12, name + " fused output");
        Layer reference = instantiate(confs[0], DataType.DOUBLE);
        reference.setParams(dl4j.params().dup());
        reference.setInput(x.dup(), NO_WS);
        reference.activate(true, NO_WS);
        INDArray dx = reference.backpropGradient(swish.backprop(z.dup(), dy.dup()).getFirst(), NO_WS).getSecond();
        assertTrue(relativeError(dx, f[1]) < 1e-12, name + " fused dx");
    }

    @Test
    void largeMeanSmallVarianceIsAsAccurateAsDl4jInFloat() {
        long[] shape = {4, 8, 17, 19};
        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.randn(DataType.DOUBLE, shape).muli(0.1).addi(10.0); // mean 10, variance 1e-2
        INDArray dy = Nd4j.randn(DataType.DOUBLE, shape);
        Layer[] exact = layerPair(DataType.DOUBLE, 8, 1e-5, 0.99);
        Layer[] single = layerPair(DataType.FLOAT, 8, 1e-5, 0.99);
        INDArray[] ref = run(exact[0], x, dy);
        INDArray[] dl4j = run(single[0], x.castTo(DataType.FLOAT), dy.castTo(DataType.FLOAT));
        INDArray[] fast = run(single[1], x.castTo(DataType.FLOAT), dy.castTo(DataType.FLOAT));
        for (int i = 0; i < ref.length; i++) {
            double errDl4j = relativeError(dl4j[i].castTo(DataType.DOUBLE), ref[i]);
            double errFast = relativeError(fast[i].castTo(DataType.DOUBLE), ref[i]);
            assertTrue(errFast <= Math.max(2 * errDl4j, 1e-5),
                    "output " + i + ": fast " + errFast + " vs DL4J " + errDl4j + " (float32 against double)");
        }
    }

    /** Training output, input gradient and γ gradient. */
    private static INDArray[] run(Layer layer, INDArray x, INDArray dy) {
        layer.setInput(x, NO_WS);
        INDArray out = layer.activate(true, NO_WS).dup();
        Pair<Gradient, INDArray> bp = layer.backpropGradient(dy, NO_WS);
        INDArray dGamma = bp.getFirst().getGradientFor("gamma");
        return new INDArray[] {out, bp.getSecond().dup(), dGamma == null ? null : dGamma.dup()};
    }

    private static ComputationGraph smallGraph(boolean fast, WorkspaceMode ws) {
        BatchNormalization bn = fast ? new FastBatchNormalization(6, 1e-3, 0.9)
                : new BatchNormalization.Builder().nIn(6).nOut(6).eps(1e-3).decay(0.9).build();
        return batchNormClassifier(bn, InputType.convolutional(9, 7, 6), 3, ws, 5, 0.1);
    }

    /**
     * Four steps of {@code fit} through both layers and through DL4J's in float64: losses, the batch norm's parameters
     * and running statistics, and the inference output of the fast layer are as close to float64 as DL4J's float32
     * ones ({@link io.efficientnet.core.Float64Checks#assertAsCloseToExact}).
     */
    @Test
    void fitStepsUpdateRunningStatisticsLikeDl4j() {
        for (WorkspaceMode ws : new WorkspaceMode[] {WorkspaceMode.ENABLED, WorkspaceMode.NONE}) {
            ComputationGraph dl4j = smallGraph(false, ws);
            ComputationGraph fast = smallGraph(true, ws);
            ComputationGraph exact = dl4j.convertDataType(DataType.DOUBLE);
            assertEquals(dl4j.params(), fast.params());
            Nd4j.getRandom().setSeed(21);
            for (int step = 0; step < 4; step++) {
                INDArray x = Nd4j.randn(DataType.FLOAT, 2, 6, 9, 7).muli(1.5).addi(step);
                INDArray y = Nd4j.eye(3).castTo(DataType.FLOAT).getRows(step % 3, (step + 1) % 3);
                dl4j.fit(new INDArray[] {x}, new INDArray[] {y});
                fast.fit(new INDArray[] {x.dup()}, new INDArray[] {y.dup()});
                exact.fit(new INDArray[] {x.castTo(DataType.DOUBLE)}, new INDArray[] {y.castTo(DataType.DOUBLE)});
                assertAsCloseToExact(Nd4j.scalar(exact.score()), Nd4j.scalar(dl4j.score()),
                        Nd4j.scalar(fast.score()), ws + " score, step " + step);
            }
            for (String p : new String[] {"gamma", "beta", "mean", "log10stdev"}) {
                assertAsCloseToExact(exact.getLayer("bn").getParam(p), dl4j.getLayer("bn").getParam(p),
                        fast.getLayer("bn").getParam(p), ws + " " + p + " after 4 steps");
            }
            Nd4j.getRandom().setSeed(22);
            INDArray x = Nd4j.randn(DataType.FLOAT, 3, 6, 9, 7);
            assertAsCloseToExact(exact.outputSingle(x.castTo(DataType.DOUBLE)), dl4j.outputSingle(x.dup()),
                    fast.outputSingle(x.dup()), ws + " inference");
        }
    }

    /**
     * In double precision, so that the comparison is not swamped by float32 rounding: at its initialisation this tiny
     * network amplifies per-layer differences of ~1e-7 (either implementation against a double-precision run) into
     * ~1e-4 differences of the loss.
     */
    @Test
    void smallEfficientNetTrainsToTheSameLosses() {
        ComputationGraph dl4j = tinyNet(false, DataType.DOUBLE);
        ComputationGraph fast = tinyNet(true, DataType.DOUBLE);
        assertEquals(BatchNormTestSupport.batchNormCount(dl4j), fastLayers(fast));
        assertEquals(dl4j.params(), fast.params());
        Nd4j.getRandom().setSeed(99);
        INDArray x = Nd4j.randn(DataType.DOUBLE, 4, 3, 32, 32);
        INDArray y = Nd4j.eye(3).castTo(DataType.DOUBLE).getRows(0, 1, 2, 0);
        for (int step = 0; step < 4; step++) {
            Nd4j.getRandom().setSeed(1000 + step); // the same drop-path and dropout masks for both
            dl4j.fit(new INDArray[] {x}, new INDArray[] {y});
            Nd4j.getRandom().setSeed(1000 + step);
            fast.fit(new INDArray[] {x.dup()}, new INDArray[] {y.dup()});
            assertEquals(dl4j.score(), fast.score(), 1e-9 * Math.abs(dl4j.score()), "loss at step " + step);
        }
        assertTrue(relativeError(fast.params(), dl4j.params()) < 1e-8,
                "parameters after 4 steps: " + relativeError(fast.params(), dl4j.params()));
        assertTrue(relativeError(fast.outputSingle(x.dup()), dl4j.outputSingle(x)) < 1e-8, "inference");
    }

    private static ComputationGraph tinyNet(boolean fastBatchNorm, DataType type) {
        return EfficientNet.builder().phi(-4).resolution(32).numClasses(3).updater(new Sgd(1e-4)).dataType(type)
                .fastBatchNorm(fastBatchNorm).build().init();
    }

    @Test
    void jsonAndModelSerializerRoundTrip(@TempDir File dir) throws Exception {
        ComputationGraph net = tinyNet(true, DataType.FLOAT);
        ComputationGraphConfiguration conf = ComputationGraphConfiguration.fromJson(net.getConfiguration().toJson());
        assertEquals(net.getConfiguration(), conf);
        assertNotEquals(tinyNet(false, DataType.FLOAT).getConfiguration(), conf);
        Nd4j.getRandom().setSeed(23);
        INDArray x = Nd4j.randn(DataType.FLOAT, 4, 3, 32, 32);
        net.fit(new INDArray[] {x}, new INDArray[] {Nd4j.eye(3).castTo(DataType.FLOAT).getRows(0, 1, 2, 0)});
        File file = new File(dir, "fast-bn.zip");
        ModelSerializer.writeModel(net, file, true);
        ComputationGraph restored = ModelSerializer.restoreComputationGraph(file, true);
        assertInstanceOf(FastBatchNormalizationLayer.class, restored.getLayer("stem_activation"));
        assertTrue(assertInstanceOf(FastBatchNormalization.class, restored.getLayer("stem_activation").conf()
                .getLayer()).isSwish(), "fused swish survives JSON");
        assertEquals(net.params(), restored.params());
        assertEquals(net.outputSingle(x.dup()), restored.outputSingle(x.dup()));
    }

    private static int fastLayers(ComputationGraph net) {
        int n = 0;
        for (Layer l : net.getLayers()) {
            n += l instanceof FastBatchNormalizationLayer ? 1 : 0;
        }
        return n;
    }
}
