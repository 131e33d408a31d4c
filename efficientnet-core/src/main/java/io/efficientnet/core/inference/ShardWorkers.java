package io.efficientnet.core.inference;

import io.efficientnet.core.kernels.KernelThreads;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads and batch split shared by {@link ShardedInference} and sharded training: a fixed pool of daemon threads,
 * each single-threaded for native work ({@link NativeThreads}) and for this project's kernels ({@link KernelThreads}),
 * and the contiguous example ranges a batch is cut into.
 */
public final class ShardWorkers {

    private static final AtomicInteger POOLS = new AtomicInteger();

    private ShardWorkers() {
    }

    /**
     * A pool of {@code threads} daemon threads named {@code <prefix>-<pool>-<index>}, each running its native
     * operations on one OpenMP thread and its kernels on itself.
     */
    public static ExecutorService start(int threads, String prefix) {
        int pool = POOLS.incrementAndGet();
        AtomicInteger next = new AtomicInteger();
        return Executors.newFixedThreadPool(threads, task -> {
            int index = next.getAndIncrement();
            Thread t = new Thread(() -> {
                KernelThreads.callerOnly(true);
                NativeThreads.limitCurrentThread(1);
                task.run();
            }, prefix + "-" + pool + "-" + index);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Example index where each of {@code shards} contiguous shards of a batch of {@code n} starts, and {@code n} at the
     * end; the first {@code n % shards} shards hold one example more than the others.
     */
    public static long[] bounds(long n, int shards) {
        if (shards < 1 || n < shards) {
            throw new IllegalArgumentException("cannot cut " + n + " examples into " + shards + " non-empty shards");
        }
        long[] b = new long[shards + 1];
        long base = n / shards;
        long extra = n % shards;
        for (int s = 0; s < shards; s++) {
            b[s + 1] = b[s] + base + (s < extra ? 1 : 0);
        }
        return b;
    }
}
