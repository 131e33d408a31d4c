package io.efficientnet.core.training;

import io.efficientnet.core.inference.NativeThreads;
import io.efficientnet.core.inference.ShardWorkers;
import io.efficientnet.core.layers.BatchStatisticsExchange;
import io.efficientnet.core.layers.FastBatchNormalizationLayer;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.FrozenLayer;
import org.deeplearning4j.nn.layers.FrozenLayerWithBackprop;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * One optimizer step per batch, with the batch cut into contiguous shards that run forward and backward side by side,
 * each on its own replica of the network on its own single-threaded worker (as {@link
 * io.efficientnet.core.inference.ShardedInference} does for inference), and one update of the model from the summed
 * gradients.
 *
 * <p>The step is the same as {@code model.fit(features, labels)} on the whole batch: batch normalization uses the
 * statistics of the whole batch (the shards exchange per-channel sums inside every {@link FastBatchNormalizationLayer}:
 * synchronised batch norm), the replicas' gradients are summed and the model's own updater divides them by the whole
 * batch size and applies the learning rate, momentum and weight decay once, and the running mean and variance move
 * once. Losses and parameters after a step agree with one {@code fit} on the whole batch to float rounding; random
 * regularisation (dropout, drop-path) draws its masks per shard, from seeds taken from the calling thread's ND4J random
 * generator, so runs stay repeatable but are not mask-for-mask those of {@code fit}.
 *
 * <p>Requirements: one input and one output, no mask arrays, and every batch normalization that trains is this
 * project's ({@code EfficientNet.builder().fastBatchNorm(true)}, the default) on NCHW feature maps. The replicas read
 * the model's parameter array (no copy): create this after the parameter array is final, as for
 * {@code ShardedInference}.
 * The model's training listeners see {@code onGradientCalculation} and {@code iterationDone}. Calls to {@link #fit} are
 * serialised; close with {@link #close}.
 */
public final class ShardedTraining implements AutoCloseable {

    private final ComputationGraph model;
    private final ComputationGraph[] replicas;
    private final ExecutorService workers;
    /** The model's update from the summed gradient (running statistics, not sums over examples, from shard 0). */
    private final ModelUpdate update;
    private boolean closed;

    private ShardedTraining(ComputationGraph model, int shards) {
        this.model = model;
        this.update = new ModelUpdate(model);
        this.replicas = new ComputationGraph[shards];
        for (int s = 0; s < shards; s++) {
            ComputationGraph replica = new ComputationGraph(model.getConfiguration().clone());
            replica.init(model.params(), false);
            replica.initGradientsView();
            replicas[s] = replica;
        }
        this.workers = ShardWorkers.start(shards, "efficientnet-train-shard");
    }

    /**
     * Trains {@code model} with batches cut into up to {@code shards} shards.
     *
     * @throws IllegalArgumentException if {@code shards < 1}, the model is not initialised, does not have exactly one
     *                                  input and one output, or has a trainable batch normalization that cannot share
     *                                  statistics across shards (named)
     */
    public static ShardedTraining of(ComputationGraph model, int shards) {
        ShardWorkers.requireModel(model, "ShardedTraining");
        if (shards < 1) {
            throw new IllegalArgumentException("shards must be >= 1, got " + shards);
        }
        for (Layer layer : model.getLayers()) {
            if (layer instanceof BatchNormalization && !(layer instanceof FastBatchNormalizationLayer)) {
                throw new IllegalArgumentException("layer '" + layer.conf().getLayer().getLayerName() + "' is DL4J's "
                        + "BatchNormalization, whose statistics cannot be shared across shards (each shard would "
                        + "normalise with its own examples only): build the network with this project's batch norm "
                        + "(EfficientNet.builder().fastBatchNorm(true), the default) or freeze the layer");
            }
        }
        return new ShardedTraining(model, shards);
    }

    /** The most shards a batch is cut into. */
    public int shards() {
        return replicas.length;
    }

    /** Whether the shard threads run their native operations single-threaded (see {@link NativeThreads}). */
    public boolean nativeThreadsLimited() {
        return NativeThreads.unavailableReason().isEmpty();
    }

    /**
     * One optimizer step on {@code batch}.
     *
     * @return the loss of the batch before the update (what {@code model.score()} gives after {@code fit})
     * @throws IllegalArgumentException if the batch has mask arrays
     */
    public double fit(DataSet batch) {
        StepInputs.requireNoMasks(batch, "ShardedTraining");
        return fit(batch.getFeatures(), batch.getLabels());
    }

    /**
     * One optimizer step on {@code features} / {@code labels}: every shard computes its gradient on its replica, the
     * gradients are summed into the model's, and the model's updater takes one step for the whole batch.
     *
     * @return the loss of the batch before the update (what {@code model.score()} gives after {@code fit})
     * @throws IllegalArgumentException if features or labels are missing, empty or have different example counts
     * @throws IllegalStateException    if this was closed, a shard failed (with the shard's examples and cause) or the
     *                                  wait was interrupted; the model is then not updated
     */
    public synchronized double fit(INDArray features, INDArray labels) {
        if (closed) {
            throw new IllegalStateException("ShardedTraining is closed");
        }
        StepInputs.requireBatch(features, labels);
        long n = features.size(0);
        int shards = (int) Math.min(replicas.length, n);
        INDArray x = features.ordering() == 'c' ? features : features.dup('c');
        INDArray y = labels.ordering() == 'c' ? labels : labels.dup('c');
        long[] bounds = ShardWorkers.bounds(n, shards);
        int iteration = model.getIterationCount();
        int epoch = model.getEpochCount();
        ShardGroup group = new ShardGroup(shards);
        long length = model.getFlattenedGradients().length();
        List<Future<Double>> parts = new ArrayList<>(shards);
        for (int s = 0; s < shards; s++) {
            int index = s;
            long seed = Nd4j.getRandom().nextLong();
            INDArray xs = x.get(NDArrayIndex.interval(bounds[s], bounds[s + 1]));
            INDArray ys = y.get(NDArrayIndex.interval(bounds[s], bounds[s + 1]));
            parts.add(workers.submit(() -> {
                try {
                    return shardStep(index, group, xs, ys, seed, iteration, epoch,
                            length * index / group.parties(), length * (index + 1) / group.parties());
                } catch (Throwable t) {
                    group.abort(t);
                    throw t;
                }
            }));
        }
        // an interrupted caller wakes shards waiting for each other; a failed or interrupted step makes no update
        List<Double> losses = ShardWorkers.awaitAll(parts, bounds, "features " + StepInputs.describe(features),
                () -> group.abort(new InterruptedException("the caller of ShardedTraining.fit was interrupted")));
        double score = 0;
        for (int s = 0; s < shards; s++) {
            score += losses.get(s) * (bounds[s + 1] - bounds[s]);
        }
        score /= n;
        // running statistics are the same update on every shard, not a sum over examples: take shard 0's
        Map<String, INDArray> first = replicas[0].gradient().gradientForVariable();
        for (String key : update.notDividedByBatch()) {
            update.gradient().getGradientFor(key).assign(first.get(key));
        }
        update.apply(score, (int) n);
        return score;
    }

    /**
     * Shard {@code index}'s forward and backward pass on its replica, then (once every shard has its gradient) its
     * slice {@code [from, to)} of the model's gradient as the sum of the replicas' slices. Returns the shard's loss.
     */
    private double shardStep(int index, ShardGroup group, INDArray features, INDArray labels, long seed,
            int iteration, int epoch, long from, long to) {
        ComputationGraph replica = replicas[index];
        Nd4j.getRandom().setSeed(seed);
        shareStatistics(replica, group.member(index));
        try {
            replica.getConfiguration().setIterationCount(iteration);
            replica.getConfiguration().setEpochCount(epoch);
            replica.setInputs(features);
            replica.setLabels(labels);
            replica.computeGradientAndScore();
            double score = replica.score();
            group.await();
            if (to > from) {
                INDArray slice = model.getFlattenedGradients().reshape(-1).get(NDArrayIndex.interval(from, to));
                slice.assign(slice(replicas[0], from, to));
                for (int r = 1; r < group.parties(); r++) {
                    slice.addi(slice(replicas[r], from, to));
                }
            }
            return score;
        } finally {
            replica.clearLayersStates();
            shareStatistics(replica, null);
        }
    }

    private static INDArray slice(ComputationGraph replica, long from, long to) {
        return replica.getFlattenedGradients().reshape(-1).get(NDArrayIndex.interval(from, to));
    }

    private static void shareStatistics(ComputationGraph replica, BatchStatisticsExchange exchange) {
        for (Layer layer : replica.getLayers()) {
            Layer inner = layer instanceof FrozenLayer f ? f.getInsideLayer()
                    : layer instanceof FrozenLayerWithBackprop f ? f.getInsideLayer() : layer;
            if (inner instanceof FastBatchNormalizationLayer bn) {
                bn.shareStatistics(exchange);
            }
        }
    }

    /** Stops the shard threads; the model itself stays usable. */
    @Override
    public synchronized void close() {
        closed = true;
        workers.shutdownNow();
    }
}
