package io.efficientnet.core;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bound every float32 engine or layer comparison in these tests uses: a float64 run of the same network is the
 * reference, and DL4J's own float32 result shows how far float32 rounding alone moves this quantity on this CPU.
 */
public final class Float64Checks {

    /** float32's unit roundoff, 2⁻²⁴. */
    public static final double U = Math.ulp(1f) / 2;

    private Float64Checks() {
    }

    /**
     * {@code actual}'s largest difference from {@code exact} (float64), relative to the largest magnitude of
     * {@code exact}, is at most 3× that of DL4J's float32 result {@code dl4j} plus 32 float32 roundings. Both float32
     * results add the same products in different orders, so neither is expected to be closer to float64; 3× leaves
     * room for one order being luckier, the 32 roundings for DL4J landing next to float64 by chance on a single value
     * such as the loss. A wrong or missing term gives errors of another order altogether.
     */
    public static void assertAsCloseToExact(INDArray exact, INDArray dl4j, INDArray actual, String what) {
        INDArray reference = exact.castTo(DataType.DOUBLE);
        double scale = reference.amaxNumber().doubleValue();
        double dl4jError = dl4j.castTo(DataType.DOUBLE).sub(reference).amaxNumber().doubleValue() / scale;
        double error = actual.castTo(DataType.DOUBLE).sub(reference).amaxNumber().doubleValue() / scale;
        assertTrue(error <= 3 * dl4jError + 32 * U, what + ": error against float64 " + error + ", DL4J float32 "
                + dl4jError);
    }

    /** {@link #assertAsCloseToExact(INDArray, INDArray, INDArray, String)} for one value such as a loss. */
    public static void assertAsCloseToExact(double exact, double dl4j, double actual, String what) {
        assertAsCloseToExact(Nd4j.scalar(exact), Nd4j.scalar(dl4j), Nd4j.scalar(actual), what);
    }

    /**
     * The output layer's pre-softmax values for {@code x} at inference, in float64 (compared instead of probabilities
     * where the softmax saturates and rounding would flip them between 0 and 1).
     */
    public static INDArray logits(ComputationGraph net, INDArray x) {
        Map<String, INDArray> activations = net.feedForward(x, false);
        String head = net.getConfiguration().getNetworkOutputs().get(0);
        String input = net.getConfiguration().getVertexInputs().get(head).get(0);
        INDArray features = activations.get(input).castTo(DataType.DOUBLE).reshape(x.size(0), -1);
        return features.mmul(net.getLayer(head).getParam("W").castTo(DataType.DOUBLE))
                .addRowVector(net.getLayer(head).getParam("b").castTo(DataType.DOUBLE).reshape(-1));
    }
}
