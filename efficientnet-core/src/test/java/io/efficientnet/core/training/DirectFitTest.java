package io.efficientnet.core.training;

import io.efficientnet.core.EfficientNet;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DirectFit is {@code fit} with the updater on its prepared views: the same training, bit for bit. */
class DirectFitTest {

    private static ComputationGraph net() {
        return EfficientNet.builder().phi(-3).resolution(32).numClasses(5).updater(new Adam(1e-2)).weightDecay(1e-3)
                .dropoutRate(0.2).dropPathRate(0.2).seed(3).build().init();
    }

    @Test
    void threeStepsEqualFitBitForBit() {
        ComputationGraph plain = net();
        ComputationGraph direct = net();
        DirectFit fit = DirectFit.of(direct);
        List<Integer> iterations = new ArrayList<>();
        direct.setListeners(new BaseTrainingListener() {
            @Override
            public void iterationDone(Model model, int iteration, int epoch) {
                iterations.add(iteration);
            }
        });
        for (int step = 0; step < 3; step++) {
            Nd4j.getRandom().setSeed(50 + step);
            INDArray x = Nd4j.randn(DataType.FLOAT, 6, 3, 32, 32);
            INDArray y = Nd4j.zeros(DataType.FLOAT, 6, 5);
            for (int i = 0; i < 6; i++) {
                y.putScalar(i, (i + step) % 5, 1f);
            }
            Nd4j.getRandom().setSeed(7 + step); // the same dropout and drop-path masks on both sides
            plain.fit(new INDArray[] {x}, new INDArray[] {y});
            Nd4j.getRandom().setSeed(7 + step);
            double loss = fit.fit(new DataSet(x, y));
            assertEquals(plain.score(), loss, 0.0, "loss of step " + step);
            assertEquals(plain.params(), direct.params(), "parameters after step " + step);
            assertEquals(plain.getUpdater().getStateViewArray(), direct.getUpdater().getStateViewArray(),
                    "Adam state after step " + step);
        }
        assertEquals(3, direct.getIterationCount());
        assertEquals(List.of(0, 1, 2), iterations);
    }

    @Test
    void badInputIsReported() {
        ComputationGraph net = net();
        assertThrows(IllegalArgumentException.class, () -> DirectFit.of(null));
        DirectFit fit = DirectFit.of(net);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> fit.fit(Nd4j.zeros(DataType.FLOAT, 2, 3, 32, 32), Nd4j.zeros(DataType.FLOAT, 3, 5)));
        assertTrue(e.getMessage().contains("same N"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> fit.fit(new DataSet(Nd4j.zeros(DataType.FLOAT, 2, 3, 32,
                32), Nd4j.zeros(DataType.FLOAT, 2, 5), null, Nd4j.ones(DataType.FLOAT, 2, 1))));
    }
}
