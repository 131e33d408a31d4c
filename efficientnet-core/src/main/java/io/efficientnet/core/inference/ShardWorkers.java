package io.efficientnet.core.inference;

import io.efficientnet.core.kernels.KernelThreads;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What {@link ShardedInference} and sharded training share: the check of the network, a fixed pool of daemon threads,
 * each single-threaded for native work ({@link NativeThreads}) and for this project's kernels ({@link KernelThreads}),
 * the contiguous example ranges a batch is cut into, and waiting for the shards of one batch.
 */
public final class ShardWorkers {

    private static final AtomicInteger POOLS = new AtomicInteger();

    private ShardWorkers() {
    }

    /**
     * Fails unless {@code model} is an initialised network with one input and one output.
     *
     * @param who names the caller in the message, e.g. {@code "ShardedInference"}
     * @throws IllegalArgumentException naming what is wrong
     */
    public static void requireModel(ComputationGraph model, String who) {
        if (model == null) {
            throw new IllegalArgumentException("model must not be null");
        }
        if (model.getNumInputArrays() != 1 || model.getNumOutputArrays() != 1) {
            throw new IllegalArgumentException(who + " needs a network with one input and one output, got "
                    + model.getNumInputArrays() + " inputs " + model.getConfiguration().getNetworkInputs() + " and "
                    + model.getNumOutputArrays() + " outputs " + model.getConfiguration().getNetworkOutputs());
        }
        if (model.params() == null) {
            throw new IllegalArgumentException("the model is not initialised: call init() first");
        }
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

    /**
     * The results of every shard of one batch, in shard order. Waits for all of them even after a failure or an
     * interruption, so that no shard of this batch still runs on its replica when the next batch starts; then throws
     * for the first failed shard (the others usually fail because of it).
     *
     * @param bounds      the shards' example ranges ({@link #bounds})
     * @param batch       names the batch in messages, e.g. {@code "input [8, 3, 224, 224]"}
     * @param onInterrupt run when the waiting thread is interrupted (e.g. to wake shards waiting for each other); the
     *                    wait goes on, the interrupt flag is restored afterwards
     * @throws IllegalStateException with the failed shard's examples and cause, or if the wait was interrupted
     */
    public static <T> List<T> awaitAll(List<Future<T>> parts, long[] bounds, String batch, Runnable onInterrupt) {
        List<T> results = new ArrayList<>(parts.size());
        IllegalStateException failure = null;
        boolean interrupted = false;
        for (int s = 0; s < parts.size(); s++) {
            while (true) {
                try {
                    results.add(parts.get(s).get());
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                    onInterrupt.run();
                } catch (ExecutionException e) {
                    results.add(null);
                    if (failure == null) {
                        failure = new IllegalStateException("shard " + s + " of " + parts.size() + " (examples "
                                + bounds[s] + ".." + (bounds[s + 1] - 1) + " of " + batch + ") failed: "
                                + e.getCause(), e.getCause());
                    }
                    break;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
            if (failure == null) {
                failure = new IllegalStateException("interrupted while waiting for the shards of " + batch);
            }
        }
        if (failure != null) {
            throw failure;
        }
        return results;
    }
}
