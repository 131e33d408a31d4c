package io.efficientnet.core.training;

import io.efficientnet.core.layers.BatchStatisticsExchange;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shards' all-reduce: exact sums, the same on every shard, many rounds in a row, and failures that do not hang. */
class ShardGroupTest {

    @Test
    void everyShardGetsTheSameSumRoundAfterRound() throws Exception {
        int parties = 3;
        int rounds = 500;
        ShardGroup group = new ShardGroup(parties);
        ExecutorService pool = Executors.newFixedThreadPool(parties);
        try {
            List<Future<double[][]>> results = new ArrayList<>();
            for (int p = 0; p < parties; p++) {
                BatchStatisticsExchange member = group.member(p);
                int party = p;
                results.add(pool.submit(() -> {
                    double[][] seen = new double[rounds][];
                    for (int r = 0; r < rounds; r++) {
                        // lengths change from round to round, as from one batch-norm layer to the next
                        double[] local = new double[1 + r % 4];
                        for (int j = 0; j < local.length; j++) {
                            local[j] = 0.1 * (party + 1) + r + j * 1e-3;
                        }
                        seen[r] = member.allSum(local);
                    }
                    return seen;
                }));
            }
            double[][] first = results.get(0).get();
            for (int r = 0; r < rounds; r++) {
                for (int j = 0; j < first[r].length; j++) {
                    double expected = 0.1 + 0.2 + 0.3 + 3 * (r + j * 1e-3);
                    assertEquals(expected, first[r][j], 1e-9, "round " + r + " element " + j);
                }
            }
            for (int p = 1; p < parties; p++) {
                double[][] other = results.get(p).get();
                for (int r = 0; r < rounds; r++) {
                    assertArrayEquals(first[r], other[r], 0.0, "shard " + p + " round " + r + " differs from shard 0");
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aFailedShardWakesTheOthersWithItsCause() {
        ShardGroup group = new ShardGroup(2);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<double[]> waiting = pool.submit(() -> group.member(0).allSum(new double[] {1}));
            group.abort(new IllegalArgumentException("shard 1 broke"));
            ExecutionException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                    () -> assertThrows(ExecutionException.class, waiting::get));
            assertTrue(e.getCause().getMessage().contains("shard 1 broke"), e.getCause().getMessage());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void shardsThatExchangeDifferentLengthsFailClearly() {
        ShardGroup group = new ShardGroup(2);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<double[]> other = pool.submit(() -> group.member(1).allSum(new double[] {1, 2}));
            IllegalStateException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                    () -> assertThrows(IllegalStateException.class, () -> group.member(0).allSum(new double[] {1})));
            assertTrue(e.getMessage().contains("did not run the same layers"), e.getMessage());
            assertThrows(ExecutionException.class, other::get);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void membersAreBounded() {
        assertThrows(IllegalArgumentException.class, () -> new ShardGroup(0));
        assertThrows(IllegalArgumentException.class, () -> new ShardGroup(2).member(2));
    }
}
