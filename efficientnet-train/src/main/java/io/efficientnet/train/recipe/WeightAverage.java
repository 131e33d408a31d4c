package io.efficientnet.train.recipe;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.concurrent.Callable;

/**
 * Exponential moving average of all network parameters (weights and batch-norm statistics), as in the reference
 * recipe: after each step {@code avg = d·avg + (1 − d)·params} with {@code d = min(decay, (1 + n) / (10 + n))}, n the
 * number of updates so far. Evaluation and saved models use the average.
 */
public final class WeightAverage {

    private final double decay;
    private final INDArray average;
    private long updates;

    /** Starts the average at the network's current parameters. */
    public WeightAverage(double decay, ComputationGraph net) {
        this(decay, net.params().dup(), 0);
    }

    /** Restores an average (from a checkpoint). */
    public WeightAverage(double decay, INDArray average, long updates) {
        if (!(decay > 0 && decay < 1)) {
            throw new IllegalArgumentException("EMA decay must be in (0, 1), got " + decay);
        }
        this.decay = decay;
        this.average = average;
        this.updates = updates;
    }

    /** Folds in the network's current parameters. */
    public void update(ComputationGraph net) {
        INDArray params = net.params();
        if (params.length() != average.length()) {
            throw new IllegalStateException("EMA holds " + average.length() + " values but the network has "
                    + params.length());
        }
        double d = Math.min(decay, (1.0 + updates) / (10.0 + updates));
        average.muli(d).addi(params.mul(1 - d));
        updates++;
    }

    /** Runs {@code work} with the averaged parameters in {@code net}, then puts the trained ones back. */
    public <T> T withAverage(ComputationGraph net, Callable<T> work) throws Exception {
        INDArray trained = net.params().dup();
        net.setParams(average);
        try {
            return work.call();
        } finally {
            net.setParams(trained);
        }
    }

    /** The averaged parameters (a live view: do not modify). */
    public INDArray average() {
        return average;
    }

    /** Updates folded in so far. */
    public long updates() {
        return updates;
    }

    /** The configured decay. */
    public double decay() {
        return decay;
    }
}
