package io.efficientnet.core.bench;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Keeps the JMH benchmarks honest without running JMH: the harness was generated, and each benchmark method computes
 * the right thing once on a small shape (a benchmark of wrong code measures nothing useful).
 */
class JmhBenchmarksTest {

    @Test
    void harnessIsGeneratedForEveryBenchmark() throws Exception {
        try (InputStream in = getClass().getResourceAsStream("/META-INF/BenchmarkList")) {
            assertNotNull(in, "JMH annotation processor ran during test-compile");
            String list = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(list.contains(ChannelScaleVertexBenchmark.class.getName()), list);
            assertTrue(list.contains(DropPathBenchmark.class.getName()), list);
            assertTrue(list.contains(DataFormatBenchmark.class.getName()), list);
            assertTrue(list.contains(BatchNormKernelsBenchmark.class.getName()), list);
        }
    }

    @Test
    void channelScaleBenchmarkMethodsComputeTheSeMultiplyAndItsGradients() {
        ChannelScaleVertexBenchmark b = new ChannelScaleVertexBenchmark();
        b.shape = "2x3x4x5";
        b.setUp();
        INDArray expected = b.features.mul(b.gate);
        assertEquals(expected, b.forward());
        assertEquals(expected, b.referenceBroadcastMultiply());
        INDArray[] grads = b.backward();
        assertEquals(b.epsilon.mul(b.gate), grads[0]);
        INDArray dGate = b.epsilon.mul(b.features).sum(2, 3).reshape(2, 3, 1, 1);
        assertTrue(grads[1].equalsWithEps(dGate, 1e-5));
    }

    @Test
    void batchNormKernelsBenchmarkNormalisesWithAndWithoutSwish() {
        BatchNormKernelsBenchmark b = new BatchNormKernelsBenchmark();
        b.shape = "2x3x4x5";
        b.setUp();
        INDArray mean = Nd4j.createFromArray(b.mean).reshape(1, 3, 1, 1);
        INDArray scale = Nd4j.createFromArray(b.scale).reshape(1, 3, 1, 1);
        INDArray shift = Nd4j.createFromArray(b.shift).reshape(1, 3, 1, 1);
        INDArray z = b.x.sub(mean.broadcast(2, 3, 4, 5)).mul(scale.broadcast(2, 3, 4, 5))
                .add(shift.broadcast(2, 3, 4, 5));
        assertTrue(b.normalize().equalsWithEps(z, 1e-5));
        INDArray swish = z.mul(org.nd4j.linalg.ops.transforms.Transforms.sigmoid(z, true));
        assertTrue(b.normalizeSwish().equalsWithEps(swish, 1e-5));
        assertEquals(b.x, b.copy());
    }

    @Test
    void dropPathBenchmarkMethodsDropWholeSamples() {
        DropPathBenchmark b = new DropPathBenchmark();
        b.shape = "64x2x3x3";
        b.rate = 0.5;
        b.setUp();
        INDArray out = b.forward();
        INDArray ratio = out.div(b.input).reshape(64, 18);
        for (int i = 0; i < 64; i++) {
            double v = ratio.getDouble(i, 0);
            assertTrue(v == 0 || Math.abs(v - 2) < 1e-5, "sample " + i + " dropped or scaled by 1/keep: " + v);
            assertEquals(v, ratio.getRow(i).maxNumber().doubleValue(), 1e-5);
        }
        INDArray back = b.forwardBackward();
        assertEquals(b.output.div(b.input), back.div(b.gradient), "same mask forward and backward");
    }

    /** Both layouts of each layer compute the same function, so the format comparison compares equal work. */
    @Test
    void dataFormatBenchmarkComputesTheSameInBothLayouts() {
        for (String layer : new String[] {"conv1x1", "depthwise3x3", "batchnorm"}) {
            DataFormatBenchmark nchw = new DataFormatBenchmark();
            DataFormatBenchmark nhwc = new DataFormatBenchmark();
            nchw.layer = layer;
            nhwc.layer = layer;
            nchw.format = "NCHW";
            nhwc.format = "NHWC";
            nchw.shape = "2x8x5x6";
            nhwc.shape = "2x8x5x6";
            nchw.setUp();
            nhwc.setUp();
            assertEquals(nchw.net.numParams(), nhwc.net.numParams(), layer);
            nhwc.net.setParams(nchw.net.params().dup());
            assertEquals(nchw.input, nhwc.input.permute(0, 3, 1, 2), layer + ": same values, other layout");
            INDArray a = nchw.inference();
            INDArray b = nhwc.inference();
            assertTrue(a.equalsWithEps(b, 1e-5), layer + ": " + a + " vs " + b);
            assertTrue(Math.abs(a.getDouble(0, 0) - 0.5) > 1e-4, layer + ": not a trivially uniform output");
            double before = nchw.net.score(new org.nd4j.linalg.dataset.MultiDataSet(
                    new INDArray[] {nchw.input}, nchw.labels));
            nchw.fit();
            nhwc.fit();
            assertTrue(nchw.net.params().equalsWithEps(nhwc.net.params(), 1e-5), layer + ": same SGD step");
            assertNotEquals(before, nchw.net.score(new org.nd4j.linalg.dataset.MultiDataSet(
                    new INDArray[] {nchw.input}, nchw.labels)), 1e-9, layer + ": the step changed the loss");
        }
    }
}
