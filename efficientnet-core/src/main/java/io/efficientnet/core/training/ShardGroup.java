package io.efficientnet.core.training;

import io.efficientnet.core.layers.BatchStatisticsExchange;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The meeting point of the shard threads of one training step: a reusable barrier and an all-reduce (element-wise sum)
 * of the arrays each shard contributes, used by synchronised batch norm. Waiting spins briefly (the exchanges are
 * microseconds apart when the shards are balanced), then yields, then parks. If one shard fails, {@link #abort} wakes
 * the others with an exception instead of leaving them waiting forever.
 */
final class ShardGroup {

    private static final int SPINS = 20_000;
    private static final int YIELDS = 200;

    private final int parties;
    /** Two sets of slots, used alternately: a set is rewritten only after every shard has read it. */
    private final double[][][] slots;
    private final AtomicInteger arrived = new AtomicInteger();
    private volatile long generation;
    private volatile Throwable failure;

    ShardGroup(int parties) {
        if (parties < 1) {
            throw new IllegalArgumentException("a shard group needs >= 1 party, got " + parties);
        }
        this.parties = parties;
        this.slots = new double[2][parties][];
    }

    int parties() {
        return parties;
    }

    /** Shard {@code index}'s side of the statistics exchange. */
    BatchStatisticsExchange member(int index) {
        if (index < 0 || index >= parties) {
            throw new IllegalArgumentException("shard " + index + " is not in a group of " + parties);
        }
        return local -> allSum(index, local);
    }

    /** The element-wise sum over all shards of their {@code local} arrays, added in shard order (same bits for all). */
    double[] allSum(int index, double[] local) {
        long g = generation;
        double[][] set = slots[(int) (g & 1)];
        set[index] = local;
        await(g);
        double[] sum = new double[local.length];
        for (int p = 0; p < parties; p++) {
            double[] part = set[p];
            if (part.length != local.length) {
                IllegalStateException e = new IllegalStateException("shard " + p + " exchanged " + part.length
                        + " values where shard " + index + " exchanged " + local.length
                        + ": the replicas did not run the same layers");
                abort(e);
                throw e;
            }
            for (int j = 0; j < sum.length; j++) {
                sum[j] += part[j];
            }
        }
        return sum;
    }

    /** Waits until every shard has arrived. */
    void await() {
        await(generation);
    }

    private void await(long g) {
        if (arrived.incrementAndGet() == parties) {
            arrived.set(0);
            generation = g + 1;
            return;
        }
        int waits = 0;
        while (generation == g) {
            Throwable f = failure;
            if (f != null) {
                throw new IllegalStateException("another shard of this training step failed: " + f, f);
            }
            if (waits < SPINS) {
                Thread.onSpinWait();
            } else if (waits < SPINS + YIELDS) {
                Thread.yield();
            } else {
                LockSupport.parkNanos(50_000);
            }
            waits++;
        }
    }

    /** Makes every shard waiting now or later in this group fail with {@code cause}. */
    void abort(Throwable cause) {
        if (failure == null) {
            failure = cause;
        }
    }
}
