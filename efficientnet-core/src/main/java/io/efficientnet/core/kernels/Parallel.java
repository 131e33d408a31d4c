package io.efficientnet.core.kernels;

import org.nd4j.linalg.factory.Nd4j;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;

/**
 * Splits an element range over the calling thread and the common fork-join pool, using as many threads as ND4J's own
 * operations may ({@code Nd4j.getEnvironment().maxThreads()}, at most the number of processors), or the calling thread
 * alone where {@link KernelThreads#callerOnly()} says so.
 */
final class Parallel {

    /** Below this many elements per thread, a split costs more than it saves. */
    static final int MIN_PER_THREAD = 1 << 15;

    private static final int THREADS = defaultThreads();

    /** A half-open range {@code [from, to)} of elements. */
    interface RangeBody {
        void run(int from, int to);
    }

    private Parallel() {
    }

    /** Runs {@code body} over {@code [0, n)} in contiguous chunks whose starts are multiples of {@code align}. */
    static void forRange(int n, int align, RangeBody body) {
        int parts = (int) Math.min(threads(), Math.max(1, n / MIN_PER_THREAD));
        if (parts == 1) {
            body.run(0, n);
            return;
        }
        ForkJoinTask<?>[] others = new ForkJoinTask<?>[parts - 1];
        int chunk = ((n / parts) / align) * align;
        for (int p = 1; p < parts; p++) {
            int from = p * chunk;
            int to = p == parts - 1 ? n : from + chunk;
            others[p - 1] = ForkJoinPool.commonPool().submit(() -> body.run(from, to));
        }
        body.run(0, chunk);
        for (ForkJoinTask<?> t : others) {
            t.join();
        }
    }

    /**
     * Runs {@code body} over rows {@code [0, rows)} of {@code rowLength} elements each, in contiguous row ranges, split
     * when there are enough elements in all.
     */
    static void forRows(int rows, int rowLength, RangeBody body) {
        long elements = (long) rows * rowLength;
        int parts = (int) Math.min(Math.min(threads(), rows), Math.max(1, elements / MIN_PER_THREAD));
        if (parts <= 1) {
            body.run(0, rows);
            return;
        }
        ForkJoinTask<?>[] others = new ForkJoinTask<?>[parts - 1];
        for (int p = 1; p < parts; p++) {
            int from = (int) ((long) rows * p / parts);
            int to = (int) ((long) rows * (p + 1) / parts);
            others[p - 1] = ForkJoinPool.commonPool().submit(() -> body.run(from, to));
        }
        body.run(0, rows / parts);
        for (ForkJoinTask<?> t : others) {
            t.join();
        }
    }

    private static int threads() {
        return KernelThreads.callerOnly() ? 1 : THREADS;
    }

    private static int defaultThreads() {
        int cpus = Runtime.getRuntime().availableProcessors();
        try {
            int nd4j = Nd4j.getEnvironment().maxThreads();
            return Math.max(1, nd4j > 0 ? Math.min(nd4j, cpus) : cpus);
        } catch (RuntimeException | LinkageError e) {
            return cpus;
        }
    }
}
