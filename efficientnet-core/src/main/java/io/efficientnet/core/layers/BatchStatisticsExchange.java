package io.efficientnet.core.layers;

/**
 * How the shards of one batch, each on its own replica of a network, share batch normalization's per-channel sums so
 * that every shard normalises with the statistics of the whole batch (synchronised batch norm). Every shard's
 * {@link FastBatchNormalizationLayer} calls {@link #allSum} the same number of times in the same order.
 */
public interface BatchStatisticsExchange {

    /**
     * The element-wise sum of {@code local} over all shards, bit-for-bit the same on every shard; blocks until every
     * shard has contributed its array (all of the same length).
     */
    double[] allSum(double[] local);
}
