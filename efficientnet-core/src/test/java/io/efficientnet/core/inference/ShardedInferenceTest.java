package io.efficientnet.core.inference;

import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.kernels.KernelThreads;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Batch inference split into shards on replicas: same outputs as one forward pass, parameters shared, bad input. */
class ShardedInferenceTest {

    private static ComputationGraph net;

    /** A small EfficientNet after two SGD steps, so that batch norm's running statistics are not the initial 0/1. */
    @BeforeAll
    static void trainedSmallNet() {
        net = EfficientNet.builder().phi(-3).resolution(32).numClasses(5).updater(new Sgd(0.1)).seed(3).build()
                .init();
        Nd4j.getRandom().setSeed(11);
        for (int i = 0; i < 2; i++) {
            net.fit(new INDArray[] {Nd4j.randn(DataType.FLOAT, 6, 3, 32, 32)}, new INDArray[] {oneHot(6, 5)});
        }
    }

    private static INDArray oneHot(int n, int classes) {
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, classes);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, i % classes, 1f);
        }
        return y;
    }

    /**
     * The same DL4J layers on part of the batch: float32 results differ only where a kernel's summation order depends
     * on the batch size, by a few roundings per layer (1e-5 of the largest output is ~170 roundings of 2⁻²⁴); the
     * top class must agree wherever the top two probabilities are further apart than that.
     */
    private static void assertSameOutputs(INDArray expected, INDArray actual) {
        assertArrayEquals(expected.shape(), actual.shape());
        double tolerance = 1e-5 * Math.max(1, expected.amaxNumber().doubleValue());
        double diff = expected.sub(actual).amaxNumber().doubleValue();
        assertTrue(diff <= tolerance, "max difference " + diff);
        for (int i = 0; i < expected.size(0); i++) {
            double[] p = expected.getRow(i).toDoubleVector();
            double[] sorted = p.clone();
            java.util.Arrays.sort(sorted);
            if (sorted.length < 2 || sorted[sorted.length - 1] - sorted[sorted.length - 2] > 2 * tolerance) {
                assertEquals(expected.getRow(i).argMax().getInt(0), actual.getRow(i).argMax().getInt(0),
                        "top class of example " + i);
            }
        }
    }

    @Test
    void shardedOutputEqualsOneForwardPassForUnevenShards() {
        Nd4j.getRandom().setSeed(5);
        INDArray x = Nd4j.randn(DataType.FLOAT, 7, 3, 32, 32);
        INDArray expected = net.output(false, x)[0];
        try (ShardedInference sharded = ShardedInference.of(net, 3)) {
            assertEquals(3, sharded.shards());
            INDArray out = sharded.output(x);
            assertSameOutputs(expected, out);
            // row by row: example i of the batch is example i of the output (shards keep their order)
            for (int i = 0; i < 7; i++) {
                assertSameOutputs(net.output(false, x.get(org.nd4j.linalg.indexing.NDArrayIndex.point(i))
                        .reshape(1, 3, 32, 32))[0], out.getRow(i).reshape(1, 5));
            }
            assertSameOutputs(expected, sharded.output(x)); // reusable
        }
    }

    @Test
    void batchesSmallerThanTheShardCountAndNonCOrderInput() {
        Nd4j.getRandom().setSeed(6);
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, 3, 32, 32);
        try (ShardedInference sharded = ShardedInference.of(net, 4)) {
            assertSameOutputs(net.output(false, x)[0], sharded.output(x));
            INDArray one = x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 1)).dup();
            assertSameOutputs(net.output(false, one)[0], sharded.output(one));
            INDArray fOrder = x.dup('f');
            assertSameOutputs(net.output(false, x)[0], sharded.output(fOrder));
        }
    }

    @Test
    void replicasReadTheModelsParameterArray() {
        ComputationGraph own = net.clone();
        Nd4j.getRandom().setSeed(7);
        INDArray x = Nd4j.randn(DataType.FLOAT, 4, 3, 32, 32);
        try (ShardedInference sharded = ShardedInference.of(own, 2)) {
            INDArray before = sharded.output(x);
            own.fit(new INDArray[] {x}, new INDArray[] {oneHot(4, 5)});
            INDArray after = sharded.output(x);
            assertFalse(before.equalsWithEps(after, 1e-6), "a training step changed the outputs");
            assertSameOutputs(own.output(false, x)[0], after);
        }
    }

    @Test
    void aBatchNormFoldedExportShardsToo() {
        ComputationGraph folded = BatchNormFolding.fold(net).graph();
        Nd4j.getRandom().setSeed(8);
        INDArray x = Nd4j.randn(DataType.FLOAT, 5, 3, 32, 32);
        try (ShardedInference sharded = ShardedInference.of(folded, 2)) {
            assertSameOutputs(folded.output(false, x)[0], sharded.output(x));
            assertSameOutputs(net.output(false, x)[0], sharded.output(x));
        }
    }

    @Test
    void shardBoundsAreContiguousAndBalanced() {
        assertArrayEquals(new long[] {0, 3, 5, 7}, ShardWorkers.bounds(7, 3));
        assertArrayEquals(new long[] {0, 4, 8}, ShardWorkers.bounds(8, 2));
        assertArrayEquals(new long[] {0, 1, 2}, ShardWorkers.bounds(2, 2));
        assertThrows(IllegalArgumentException.class, () -> ShardWorkers.bounds(1, 2));
    }

    @Test
    void shardOutputsAreJoinedInOrderForEveryLayout() {
        INDArray a = Nd4j.arange(0, 6).castTo(DataType.FLOAT).reshape(2, 3);
        INDArray b = Nd4j.arange(6, 9).castTo(DataType.FLOAT).reshape(1, 3);
        INDArray expected = Nd4j.arange(0, 9).castTo(DataType.FLOAT).reshape(3, 3);
        assertEquals(expected, ShardedInference.concat(new INDArray[] {a, b}));
        assertEquals(expected, ShardedInference.concat(new INDArray[] {a.dup('f'), b}), "'f' order part");
        assertEquals(expected.castTo(DataType.DOUBLE), ShardedInference.concat(new INDArray[] {
                a.castTo(DataType.DOUBLE), b.castTo(DataType.DOUBLE)}), "other data types");
        Nd4j.getRandom().setSeed(9);
        INDArray four = Nd4j.rand(DataType.FLOAT, 3, 2, 2, 2);
        assertEquals(four, ShardedInference.concat(new INDArray[] {four.get(
                org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 1)).dup(), four.get(
                org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 3))}), "rank 4, a view as a part");
    }

    @Test
    void badArgumentsAreNamed() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ShardedInference.of(net, 0)).getMessage()
                .contains("shards must be >= 1, got 0"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ShardedInference.of(null, 2)).getMessage()
                .contains("model must not be null"));
        ComputationGraph twoInputs = new ComputationGraph(new NeuralNetConfiguration.Builder().graphBuilder()
                .addInputs("a", "b").addVertex("sum", new ElementWiseVertex(ElementWiseVertex.Op.Add), "a", "b")
                .addLayer("out", new DenseLayer.Builder().nOut(2).build(), "sum").setOutputs("out")
                .setInputTypes(InputType.feedForward(3), InputType.feedForward(3)).build());
        twoInputs.init();
        String m = assertThrows(IllegalArgumentException.class, () -> ShardedInference.of(twoInputs, 2)).getMessage();
        assertTrue(m.contains("one input and one output, got 2 inputs [a, b]"), m);
        ShardedInference sharded = ShardedInference.of(net, 2);
        m = assertThrows(IllegalArgumentException.class, () -> sharded.output(null)).getMessage();
        assertTrue(m.contains("input must be a batch [N, ...] with N >= 1, got null"), m);
        sharded.close();
        m = assertThrows(IllegalStateException.class, () -> sharded.output(Nd4j.zeros(DataType.FLOAT, 2, 3, 32, 32)))
                .getMessage();
        assertTrue(m.contains("closed"), m);
    }

    @Test
    void aFailingShardNamesItsExamples() {
        try (ShardedInference sharded = ShardedInference.of(net, 2)) {
            INDArray wrongChannels = Nd4j.zeros(DataType.FLOAT, 4, 5, 32, 32);
            String m = assertThrows(IllegalStateException.class, () -> sharded.output(wrongChannels)).getMessage();
            assertTrue(m.contains("shard 0 of 2 (examples 0..1 of input"), m);
        }
    }

    /** Prints why {@link NativeThreads} is unavailable (or "available") and a sharded output's first value. */
    public static final class Probe {
        public static void main(String[] args) {
            System.out.println(NativeThreads.unavailableReason().orElse("available"));
            ComputationGraph small = EfficientNet.builder().phi(-3).resolution(32).numClasses(5).build().init();
            try (ShardedInference sharded = ShardedInference.of(small, 2)) {
                INDArray x = Nd4j.ones(DataType.FLOAT, 2, 3, 32, 32);
                double d = sharded.output(x).sub(small.output(false, x)[0]).amaxNumber().doubleValue();
                System.out.println("limited=" + sharded.nativeThreadsLimited() + " diff=" + d);
            }
            System.exit(0);
        }
    }

    /** Longest wait for the probe JVM (it takes seconds): past it the child is taken to hang. */
    private static final long PROBE_TIMEOUT_MINUTES = 5;

    /** Without the JVM options the shards still work, on the process-wide thread count, and say why. */
    @Test
    void withoutNativeAccessTheShardsFallBackAndSayWhy(@TempDir Path dir) throws Exception {
        String javaBin = ProcessHandle.current().info().command().orElse("java");
        for (String[] flags : new String[][] {{"--add-modules=jdk.incubator.vector"},
                {"--add-modules=jdk.incubator.vector,jdk.incubator.foreign"}}) {
            java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(javaBin, "-Xmx1g"));
            cmd.addAll(java.util.List.of(flags));
            cmd.addAll(java.util.List.of("-cp", System.getProperty("java.class.path"), Probe.class.getName()));
            // both streams to files, so that neither can fill its pipe and block the child
            Path stdout = Files.createTempFile(dir, "probe", ".out");
            Path stderr = Files.createTempFile(dir, "probe", ".err");
            Process p = new ProcessBuilder(cmd).redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
            if (!p.waitFor(PROBE_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly().waitFor();
                fail("the probe JVM did not finish within " + PROBE_TIMEOUT_MINUTES + " minutes; stdout:\n"
                        + read(stdout) + "\nstderr:\n" + read(stderr));
            }
            String out = read(stdout);
            assertEquals(0, p.exitValue(), out + "\nstderr:\n" + read(stderr));
            String expected = flags[0].contains("foreign")
                    ? "the JVM was started without --enable-native-access=ALL-UNNAMED"
                    : "the JVM was started without --add-modules jdk.incubator.foreign";
            assertTrue(out.contains(expected), out);
            assertTrue(out.contains("limited=false diff="), out);
            double diff = Double.parseDouble(out.substring(out.indexOf("diff=") + 5).trim());
            // softmax outputs (≤ 1) of the same layers on part of the batch: as in assertSameOutputs
            assertTrue(diff <= 1e-5, "sharded output equals the network's: " + out);
        }
    }

    private static String read(Path file) throws java.io.IOException {
        return new String(Files.readAllBytes(file), java.nio.charset.StandardCharsets.UTF_8);
    }

    /** The test JVM runs with the foreign-function API and native access (parent POM), so shards are capped. */
    @Test
    void nativeThreadLimitIsPerThread() throws Exception {
        assertTrue(NativeThreads.unavailableReason().isEmpty(), NativeThreads.unavailableReason().orElse(""));
        int before = NativeThreads.currentThreadLimit().orElseThrow();
        AtomicReference<Object[]> seen = new AtomicReference<>();
        Thread t = new Thread(() -> {
            boolean set = NativeThreads.limitCurrentThread(1);
            KernelThreads.callerOnly(true);
            seen.set(new Object[] {set, NativeThreads.currentThreadLimit().orElseThrow(), KernelThreads.callerOnly()});
        });
        t.start();
        t.join();
        assertEquals(true, seen.get()[0]);
        assertEquals(1, seen.get()[1]);
        assertEquals(true, seen.get()[2]);
        assertEquals(before, NativeThreads.currentThreadLimit().orElseThrow(), "other threads keep their limit");
        assertFalse(KernelThreads.callerOnly());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> NativeThreads.limitCurrentThread(0))
                .getMessage().contains("threads must be >= 1, got 0"));
        try (ShardedInference sharded = ShardedInference.of(net, 2)) {
            assertTrue(sharded.nativeThreadsLimited());
        }
    }
}
