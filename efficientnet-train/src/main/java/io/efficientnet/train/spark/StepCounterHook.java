package io.efficientnet.train.spark;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.TrainingHook;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Gives each worker replica the driver's iteration and epoch before it fits. DL4J's parameter-averaging workers build
 * their replica from {@code ComputationGraphConfiguration.clone()}, which drops the iteration count, so without this
 * every worker would use the learning rate of step 0 and Adam's bias correction of step 1 at every step. The hook is
 * serialised with each step's tasks, so the values set on the driver are the ones the workers see.
 */
final class StepCounterHook implements TrainingHook {

    private static final long serialVersionUID = 1L;
    private int iteration;
    private int epoch;

    /** The step the next tasks perform. */
    void set(int iteration, int epoch) {
        this.iteration = iteration;
        this.epoch = epoch;
    }

    @Override
    public void preUpdate(MultiDataSet minibatch, Model model) {
        if (model instanceof ComputationGraph g) {
            g.getConfiguration().setIterationCount(iteration);
            g.getConfiguration().setEpochCount(epoch);
        }
    }

    @Override
    public void postUpdate(MultiDataSet minibatch, Model model) {
    }

    @Override
    public void preUpdate(DataSet minibatch, Model model) {
    }

    @Override
    public void postUpdate(DataSet minibatch, Model model) {
    }
}
