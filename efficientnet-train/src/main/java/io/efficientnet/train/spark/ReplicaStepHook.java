package io.efficientnet.train.spark;

import org.apache.spark.util.CollectionAccumulator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.TrainingHook;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Runs around each minibatch a worker's replica fits. Before: sets the replica's iteration and epoch to the driver's,
 * plus the steps the replica has taken in this job. DL4J's parameter-averaging workers build their replica from
 * {@code ComputationGraphConfiguration.clone()}, which drops the iteration count, so without this every worker would
 * use the learning rate of step 0 and Adam's bias correction of step 1. After: records the minibatch's loss and size
 * for the driver (a Spark accumulator). The hook is serialised with each job's tasks, so each task starts from the
 * values the driver set for that job.
 */
final class ReplicaStepHook implements TrainingHook {

    private static final long serialVersionUID = 1L;
    private final CollectionAccumulator<double[]> losses;
    private int iteration;
    private int epoch;
    /** Minibatches this task's copy has fitted. */
    private int localSteps;

    ReplicaStepHook(CollectionAccumulator<double[]> losses) {
        this.losses = losses;
    }

    /** The driver's iteration and epoch at the start of the next job; forgets the losses of the last one. */
    void startJob(int iteration, int epoch) {
        this.iteration = iteration;
        this.epoch = epoch;
        this.localSteps = 0;
        losses.reset();
    }

    /**
     * The mean loss of each of the last job's {@code steps} local steps over the workers, weighted by their examples;
     * NaN for a step no worker reported.
     */
    double[] stepLosses(int steps) {
        double[] sum = new double[steps];
        double[] count = new double[steps];
        for (double[] r : losses.value()) { // a copy
            int step = (int) r[0];
            if (step < steps) {
                sum[step] += r[1] * r[2];
                count[step] += r[2];
            }
        }
        for (int i = 0; i < steps; i++) {
            sum[i] = count[i] > 0 ? sum[i] / count[i] : Double.NaN;
        }
        return sum;
    }

    @Override
    public void preUpdate(MultiDataSet minibatch, Model model) {
        if (model instanceof ComputationGraph g) {
            g.getConfiguration().setIterationCount(iteration + localSteps);
            g.getConfiguration().setEpochCount(epoch);
        }
    }

    @Override
    public void postUpdate(MultiDataSet minibatch, Model model) {
        losses.add(new double[] {localSteps, model.score(), minibatch.getFeatures(0).size(0)});
        localSteps++;
    }

    @Override
    public void preUpdate(DataSet minibatch, Model model) {
    }

    @Override
    public void postUpdate(DataSet minibatch, Model model) {
    }
}
