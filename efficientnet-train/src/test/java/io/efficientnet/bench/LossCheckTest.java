package io.efficientnet.bench;

import io.efficientnet.core.EfficientNet;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The training benchmarks' after-timing loss check accepts DL4J's own loss and refuses a wrong one. */
class LossCheckTest {

    @Test
    void acceptsWhatDl4jComputesAndRefusesAWrongLoss() {
        ComputationGraph net = EfficientNet.builder().phi(-3).resolution(64).numClasses(5).seed(2).build().init();
        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.randn(DataType.FLOAT, 4, 3, 64, 64);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 4, 5);
        for (int i = 0; i < 4; i++) {
            y.putScalar(i, i % 5, 1f);
        }
        double loss = ModelBenchmark.trainingLoss(ModelBenchmark.withoutDropout(net), x, y);
        assertDoesNotThrow(() -> ModelBenchmark.checkLoss(net, x, y, loss, "the engine"));
        // 1% off: the float64 bound on this well-conditioned batch (4 images, 2×2 last maps) is far tighter
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ModelBenchmark.checkLoss(net, x, y, loss * 1.01, "the engine"));
        assertTrue(e.getMessage().startsWith("the engine's loss") && e.getMessage().contains("float64"),
                e.getMessage());
    }
}
