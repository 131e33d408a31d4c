package io.efficientnet.core.bench;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Keeps the JMH benchmarks honest without running JMH: the harness was generated, and each benchmark method computes
 * the right thing once on a small shape (a benchmark of wrong code measures nothing useful).
 */
class JmhBenchmarksTest {

    @Test
    void harnessIsGeneratedForBothBenchmarks() throws Exception {
        try (InputStream in = getClass().getResourceAsStream("/META-INF/BenchmarkList")) {
            assertNotNull(in, "JMH annotation processor ran during test-compile");
            String list = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(list.contains(ChannelScaleVertexBenchmark.class.getName()), list);
            assertTrue(list.contains(DropPathBenchmark.class.getName()), list);
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
}
