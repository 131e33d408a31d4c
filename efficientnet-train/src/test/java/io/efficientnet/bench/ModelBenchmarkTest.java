package io.efficientnet.bench;

import io.efficientnet.core.EfficientNet;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Sgd;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class ModelBenchmarkTest {

    @Test
    void useSgdReplacesTheBuildersUpdaterOnEveryLayer() {
        ComputationGraph net = EfficientNet.builder().phi(-3).resolution(32).numClasses(3).updater(new Adam(1e-3))
                .build().init();
        ModelBenchmark.useSgd(net, 0.1);
        for (var layer : net.getLayers()) {
            if (layer.conf().getLayer() instanceof BaseLayer b) {
                assertEquals(new Sgd(0.1), b.getIUpdater(), layer.conf().getLayer().getLayerName());
            }
        }
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, 3, 32, 32);
        net.fit(new INDArray[] {x}, new INDArray[] {Nd4j.eye(3).getRows(0, 1)});
        INDArray state = net.getUpdater().getStateViewArray();
        assertTrue(state == null || state.length() == 0, "plain SGD keeps no updater state (Adam would)");
        assertThrows(IllegalStateException.class, () -> ModelBenchmark.useSgd(net, 0.1),
                "too late once the updater exists");
    }

    @Test
    void specRejectsBadValuesNamingThem() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new BenchmarkSpec(BenchmarkMode.TRAIN, 0, 1, 1, 1, 0.01, false));
        assertTrue(e.getMessage().contains("got 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> BenchmarkMode.parse("eval"));
        assertTrue(e.getMessage().contains("'eval'"), e.getMessage());
        assertEquals(BenchmarkMode.TRAIN, BenchmarkMode.parse(" Train "));
    }

    @Test
    void resultStatistics() {
        BenchmarkSpec spec = new BenchmarkSpec(BenchmarkMode.INFERENCE, 4, 0, 3, 1, 0.01, false);
        BenchmarkResult r = new BenchmarkResult("m", spec, new int[] {3, 32, 32}, 10, null,
                new double[] {100, 400, 200}, new MemoryMonitor.Peak(1, 2, 3, 4, 5), BackendInfo.current(), null,
                Map.of());
        assertArrayEquals(new double[] {40, 10, 20}, r.imagesPerSecond(), 1e-12);
        assertEquals(20, r.medianImagesPerSecond(), 1e-12);
        assertEquals(10, r.minImagesPerSecond(), 1e-12);
        assertEquals(40, r.maxImagesPerSecond(), 1e-12);
        assertEquals(200, r.medianIterationMs(), 1e-12);
        assertEquals(15, BenchmarkResult.median(new double[] {10, 20}), 1e-12);
    }
}
