package io.efficientnet.train.run;

import io.efficientnet.core.training.ShardedTraining;
import io.efficientnet.train.data.ImageBatches;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * Steps through {@link ShardedTraining} ({@code run.train_shards}): each batch is cut into single-threaded shards on
 * replicas of the network that run side by side, batch norm uses the whole batch's statistics, and the network takes
 * one update from the summed gradients — the step {@code fit} takes, on several cores of one machine.
 */
final class ShardedStepRunner implements StepRunner {

    private final int shards;
    private ShardedTraining training;
    private ComputationGraph trained;

    ShardedStepRunner(int shards) {
        if (shards < 2) {
            throw new IllegalArgumentException("sharded training needs >= 2 shards, got " + shards);
        }
        this.shards = shards;
    }

    @Override
    public double step(ComputationGraph net, ImageBatches.Batch batch) {
        if (training == null || trained != net) {
            close();
            training = ShardedTraining.of(net, shards);
            trained = net;
        }
        return training.fit(batch.data());
    }

    @Override
    public void close() {
        if (training != null) {
            training.close();
            training = null;
        }
    }
}
