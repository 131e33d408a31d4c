package io.efficientnet.train.recipe;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import static org.junit.jupiter.api.Assertions.*;

/** The EMA of the weights: decay min(decay, (1 + n) / (10 + n)) against hand-computed averages. */
class WeightAverageTest {

    // float64 networks: the only error is the rounding of a few multiply-adds on values below 1000
    private static final double EPS = 1e-12;

    /** A float64 graph with three parameters (a 2 -> 1 dense output layer: two weights and a bias). */
    private static ComputationGraph net(double... params) {
        ComputationGraph net = new ComputationGraph(new NeuralNetConfiguration.Builder().dataType(DataType.DOUBLE)
                .graphBuilder().addInputs("in")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nIn(2).nOut(1)
                        .activation(Activation.IDENTITY).build(), "in")
                .setOutputs("out").build());
        net.init();
        set(net, params);
        return net;
    }

    private static void set(ComputationGraph net, double... params) {
        net.setParams(Nd4j.createFromArray(params).reshape(1, params.length));
    }

    private static void assertValues(double[] expected, INDArray actual, String what) {
        assertArrayEquals(expected, actual.dup().reshape(-1).toDoubleVector(), EPS, what);
    }

    @Test
    void earlyStepsAverageFasterByHand() {
        ComputationGraph net = net(1, 2, 3);
        WeightAverage ema = new WeightAverage(0.5, net);
        set(net, 11, 12, 13);
        ema.update(net); // n = 0: d = min(0.5, 1/10) = 0.1
        assertValues(new double[] {10, 11, 12}, ema.average(), "0.1 * (1, 2, 3) + 0.9 * (11, 12, 13)");
        set(net, 0, 0, 0);
        ema.update(net); // n = 1: d = 2/11
        assertValues(new double[] {20.0 / 11, 2, 24.0 / 11}, ema.average(), "2/11 * (10, 11, 12)");
        set(net, 4, 4, 4);
        ema.update(net); // n = 2: d = 3/12
        assertValues(new double[] {38.0 / 11, 3.5, 39.0 / 11}, ema.average(), "0.25 * previous + 0.75 * 4");
        assertEquals(3, ema.updates());
        assertValues(new double[] {4, 4, 4}, net.params(), "the network keeps its own parameters");
    }

    @Test
    void effectiveDecayFollowsTheWarmupThenTheConfiguredDecay() {
        // n -> expected d for decay 0.9: (1 + n) / (10 + n) until it reaches 0.9 at n = 80, then 0.9.
        double[][] table = {{0, 0.1}, {1, 2.0 / 11}, {8, 0.5}, {79, 80.0 / 89}, {80, 0.9}, {81, 0.9}, {1000, 0.9}};
        for (double[] row : table) {
            long n = (long) row[0];
            ComputationGraph net = net(100, -50, 7);
            // a restored average (as from a checkpoint) continues the schedule at its update count
            WeightAverage ema = new WeightAverage(0.9, Nd4j.createFromArray(new double[] {-100, 50, 1}).reshape(1, 3),
                    n);
            ema.update(net);
            double[] avg = ema.average().dup().reshape(-1).toDoubleVector();
            double[] before = {-100, 50, 1};
            double[] params = {100, -50, 7};
            for (int i = 0; i < 3; i++) {
                // avg' = d * avg + (1 - d) * p, so d = (avg' - p) / (avg - p); |avg - p| >= 6 keeps this exact to 1e-12
                double d = (avg[i] - params[i]) / (before[i] - params[i]);
                assertEquals(row[1], d, EPS, "decay at n = " + n + ", value " + i);
            }
            assertEquals(n + 1, ema.updates());
        }
    }

    @Test
    void withAverageSwapsTheAverageInAndTheTrainedParametersBack() throws Exception {
        ComputationGraph net = net(1, 2, 3);
        WeightAverage ema = new WeightAverage(0.99, net);
        set(net, 11, 12, 13);
        ema.update(net);
        double[] seen = ema.withAverage(net, () -> net.params().dup().reshape(-1).toDoubleVector());
        assertArrayEquals(new double[] {10, 11, 12}, seen, EPS, "evaluation sees the average");
        assertValues(new double[] {11, 12, 13}, net.params(), "the trained parameters are back");
    }

    @Test
    void badDecayAndAnotherNetworkAreRefused() {
        ComputationGraph net = net(1, 2, 3);
        for (double d : new double[] {0, 1, -0.5, Double.NaN}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new WeightAverage(d, net));
            assertEquals("EMA decay must be in (0, 1), got " + d, e.getMessage());
        }
        WeightAverage ema = new WeightAverage(0.9, Nd4j.zeros(DataType.DOUBLE, 1, 5), 0);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ema.update(net));
        assertEquals("EMA holds 5 values but the network has 3", e.getMessage());
    }
}
