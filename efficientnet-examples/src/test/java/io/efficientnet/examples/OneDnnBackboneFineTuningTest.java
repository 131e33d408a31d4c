package io.efficientnet.examples;

import io.efficientnet.core.onednn.GraphLowering;
import io.efficientnet.core.onednn.OneDnnTraining;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Adam;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The transfer-learning notebook's fine-tuning on the project's shipped backbone (B0's blocks at width and depth 0.5,
 * 32×32, dropout and drop-path on): frozen below a block, a new 5-class head, Adam, batches of 32 and an epoch's last
 * batch of 18, every pool buffer NaN at the start of each step ({@code efficientnet.onednn.poisonBuffers}). Losses,
 * parameters and predictions stay finite; the frozen layers do not move.
 */
@Tag("numeric")
class OneDnnBackboneFineTuningTest {

    /** The oneDNN engine's switch that fills every pool buffer with NaN before each training step. */
    private static final String POISON_PROPERTY = "efficientnet.onednn.poisonBuffers";

    @BeforeAll
    static void poisonBuffers() {
        System.setProperty(POISON_PROPERTY, "true");
    }

    @AfterAll
    static void stopPoisoning() {
        System.clearProperty(POISON_PROPERTY);
    }

    @ParameterizedTest
    @ValueSource(strings = {"block4", "block6"})
    void fineTuningTheShippedBackboneStaysFinite(String from) throws IOException {
        ComputationGraph backbone = Backbone.fashion().classifier();
        ComputationGraph net = new TransferLearning.GraphBuilder(backbone)
                .fineTuneConfiguration(new FineTuneConfiguration.Builder().updater(new Adam(1e-3)).seed(42L).build())
                .setFeatureExtractor(TransferStudy.inputOfFirst(backbone, from))
                .nOutReplace("predictions", 5, WeightInit.XAVIER).build();
        Map<String, INDArray> frozenStart = new HashMap<>();
        for (Layer l : net.getLayers()) {
            if (l instanceof org.deeplearning4j.nn.layers.FrozenLayer && l.numParams() > 0) {
                frozenStart.put(l.conf().getLayer().getLayerName(), l.params().dup());
            }
        }
        assertTrue(!frozenStart.isEmpty() && GraphLowering.lowerForTraining(net).frozen().size() > 0);
        Nd4j.getRandom().setSeed(17);
        INDArray x = Nd4j.randn(DataType.FLOAT, 50, 3, 32, 32);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 50, 5);
        for (int i = 0; i < 50; i++) {
            y.putScalar(i, i % 5, 1f);
        }
        try (OneDnnTraining training = OneDnnTraining.of(net)) {
            for (int step = 0; step < 8; step++) {
                int start = (step % 2) * 32;
                int end = Math.min(start + 32, 50);
                double loss = training.fit(x.get(NDArrayIndex.interval(start, end)),
                        y.get(NDArrayIndex.interval(start, end)));
                assertTrue(Double.isFinite(loss), from + ", step " + step + ": loss " + loss);
                assertTrue(finite(net.params()), from + ", step " + step + ": parameters");
            }
        }
        frozenStart.forEach((name, p) -> assertEquals(p, net.getLayer(name).params(), from + ": frozen " + name));
        assertTrue(finite(net.outputSingle(false, x)), from + ": predictions");
    }

    static boolean finite(INDArray a) {
        for (double v : a.castTo(DataType.DOUBLE).reshape(a.length()).toDoubleVector()) {
            if (!Double.isFinite(v)) {
                return false;
            }
        }
        return true;
    }
}
