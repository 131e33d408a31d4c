package io.efficientnet.train.step;

import io.efficientnet.train.data.ImageBatches;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.nd4j.linalg.dataset.DataSet;

import java.util.List;

/**
 * Data-parallel steps with DL4J's {@link ParallelWrapper}: each batch is split into one shard per worker, every
 * replica (one per device; threads on CPU) fits its shard, and parameters and updater state are averaged after every
 * step, so the wrapped network holds the result of the step as in single-device training. The loss is the mean of the
 * replicas' losses.
 */
final class ParallelStepRunner implements StepRunner {

    private final int workers;
    private ParallelWrapper wrapper;
    private ComputationGraph wrapped;

    ParallelStepRunner(int workers) {
        if (workers < 2) {
            throw new IllegalArgumentException("data-parallel training needs >= 2 workers, got " + workers);
        }
        this.workers = workers;
    }

    @Override
    public double step(ComputationGraph net, ImageBatches.Batch step) {
        DataSet batch = step.data();
        if (wrapper == null || wrapped != net) {
            close();
            wrapper = new ParallelWrapper.Builder<>(net).workers(workers).averagingFrequency(1).averageUpdaters(true)
                    .reportScoreAfterAveraging(true).prefetchBuffer(0).build();
            wrapped = net;
        }
        int n = batch.numExamples();
        int shard = (n + workers - 1) / workers;
        List<DataSet> shards = batch.batchBy(shard);
        wrapper.fit(new ListDataSetIterator<>(shards, shard));
        return net.score();
    }

    @Override
    public void close() {
        if (wrapper != null) {
            wrapper.shutdown();
            wrapper = null;
        }
    }
}
