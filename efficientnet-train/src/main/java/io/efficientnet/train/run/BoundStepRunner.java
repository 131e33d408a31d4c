package io.efficientnet.train.run;

import io.efficientnet.core.onednn.OneDnnTraining;
import io.efficientnet.core.training.ShardedTraining;
import io.efficientnet.train.data.ImageBatches;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.api.DataSet;

import java.util.function.Function;
import java.util.function.ToDoubleBiFunction;

/**
 * Steps through a training engine bound to one network: opened for the network it is first given (again if the
 * trainer hands it another one), closed with the runner.
 *
 * @param <E> the engine
 */
final class BoundStepRunner<E extends AutoCloseable> implements StepRunner {

    private final Function<ComputationGraph, E> open;
    private final ToDoubleBiFunction<E, DataSet> fit;
    private E engine;
    private ComputationGraph bound;

    private BoundStepRunner(Function<ComputationGraph, E> open, ToDoubleBiFunction<E, DataSet> fit) {
        this.open = open;
        this.fit = fit;
    }

    /**
     * Steps through {@link ShardedTraining} ({@code run.train_shards}): each batch is cut into single-threaded shards
     * on replicas of the network that run side by side, batch norm uses the whole batch's statistics, and the network
     * takes one update from the summed gradients — the step {@code fit} takes, on several cores of one machine.
     */
    static StepRunner sharded(int shards) {
        if (shards < 2) {
            throw new IllegalArgumentException("sharded training needs >= 2 shards, got " + shards);
        }
        return new BoundStepRunner<ShardedTraining>(net -> ShardedTraining.of(net, shards), ShardedTraining::fit);
    }

    /**
     * Steps through {@link OneDnnTraining} ({@code run.train_engine: onednn}): each batch's forward and backward pass as
     * oneDNN primitives in blocked layouts, the gradients written into the network, its updater taking the step.
     */
    static StepRunner oneDnn() {
        return new BoundStepRunner<OneDnnTraining>(OneDnnTraining::of, OneDnnTraining::fit);
    }

    @Override
    public double step(ComputationGraph net, ImageBatches.Batch batch) {
        if (engine == null || bound != net) {
            close();
            engine = open.apply(net);
            bound = net;
        }
        return fit.applyAsDouble(engine, batch.data());
    }

    @Override
    public void close() {
        if (engine != null) {
            try {
                engine.close();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException("closing the training engine failed", e);
            } finally {
                engine = null;
            }
        }
    }
}
