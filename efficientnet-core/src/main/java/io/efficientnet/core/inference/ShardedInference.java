package io.efficientnet.core.inference;

import io.efficientnet.core.kernels.DirectFloats;
import io.efficientnet.core.kernels.KernelThreads;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * Batch inference split across cores by examples rather than inside each operation: a batch of {@code N} is cut into
 * up to {@code shards} contiguous shards, each shard runs through its own replica of the network on its own thread,
 * single-threaded (its OpenMP work capped with {@link NativeThreads}, this project's kernels kept on the thread with
 * {@link KernelThreads}), and the outputs are concatenated in order.
 *
 * <p>Why: on a few cores most of EfficientNet's operations are too small for DL4J to split well, so one forward pass
 * with two OpenMP threads runs only ~1.1–1.2× faster than with one, while two single-threaded shards run side by
 * side (BENCHMARKS.md, session 7). A batch smaller than {@code shards} uses one shard per example; a single example
 * runs on one shard thread, single-threaded, which on the 2-core development machine was also the fastest way to
 * answer one image (B0: 36–38 ms against 52–54 ms with two OpenMP threads). {@code of(model, 1)} is therefore
 * single-threaded inference on a thread of its own.
 *
 * <p>Each example's output is what {@code model.output(false, input)} gives for it (inference mode: batch norm uses
 * its running statistics, dropout is off), up to float rounding of operations whose blocking depends on the batch
 * size. The replicas are built from the model's configuration and read the model's own parameter array (no copy), so
 * later changes to the model's parameters (training, {@code setParams}) are seen; create this after the model's
 * parameter array is final (after {@code init}, loading weights or transfer learning), and do not train the model
 * while an {@link #output} call runs. Calls to {@link #output} are serialised; the object is closed with
 * {@link #close}.
 */
public final class ShardedInference implements AutoCloseable {

    private final ComputationGraph[] replicas;
    private final ExecutorService workers;
    private boolean closed;

    private ShardedInference(ComputationGraph model, int shards) {
        this.replicas = new ComputationGraph[shards];
        for (int s = 0; s < shards; s++) {
            ComputationGraph replica = new ComputationGraph(model.getConfiguration().clone());
            replica.init(model.params(), false);
            replicas[s] = replica;
        }
        this.workers = ShardWorkers.start(shards, "efficientnet-shard");
    }

    /**
     * Shards batches for {@code model} over {@code shards} threads.
     *
     * @throws IllegalArgumentException if {@code shards < 1} or the model does not have exactly one input and one
     *                                  output
     */
    public static ShardedInference of(ComputationGraph model, int shards) {
        ShardWorkers.requireModel(model, "ShardedInference");
        if (shards < 1) {
            throw new IllegalArgumentException("shards must be >= 1, got " + shards);
        }
        return new ShardedInference(model, shards);
    }

    /** The most shards a batch is cut into. */
    public int shards() {
        return replicas.length;
    }

    /**
     * Whether the shard threads run their native operations single-threaded; false where {@link NativeThreads} is
     * unavailable (the shards then share the process-wide OpenMP thread count, which still helps, less; running the
     * JVM with {@code OMP_NUM_THREADS=1} gives the same effect for the whole process).
     */
    public boolean nativeThreadsLimited() {
        return NativeThreads.unavailableReason().isEmpty();
    }

    /**
     * The network's output for {@code input}, computed shard by shard in parallel.
     *
     * @param input a batch {@code [N, ...]} in the network's input layout
     * @return the output {@code [N, ...]}, examples in input order
     * @throws IllegalArgumentException if the input has no examples
     * @throws IllegalStateException    if this was closed, or a shard failed (with the shard's examples and cause)
     */
    public synchronized INDArray output(INDArray input) {
        if (closed) {
            throw new IllegalStateException("ShardedInference is closed");
        }
        if (input == null || input.rank() < 1 || input.size(0) < 1) {
            throw new IllegalArgumentException("input must be a batch [N, ...] with N >= 1, got "
                    + (input == null ? "null" : input.shapeInfoToString()));
        }
        long n = input.size(0);
        int shards = (int) Math.min(replicas.length, n);
        INDArray batch = input.ordering() == 'c' ? input : input.dup('c');
        long[] bounds = ShardWorkers.bounds(n, shards);
        List<Future<INDArray>> parts = new ArrayList<>(shards);
        for (int s = 0; s < shards; s++) {
            INDArray shard = batch.get(NDArrayIndex.interval(bounds[s], bounds[s + 1]));
            ComputationGraph replica = replicas[s];
            parts.add(workers.submit(() -> replica.output(false, shard)[0]));
        }
        INDArray[] outputs = ShardWorkers.awaitAll(parts, bounds,
                "input " + input.shapeInfoToString().replace('\n', ' '), () -> { }).toArray(INDArray[]::new);
        return shards == 1 ? outputs[0] : concat(outputs);
    }

    /**
     * The shard outputs one after the other along dimension 0. Float32 outputs are copied in Java into a fresh array:
     * a native concat on the caller's thread would start an OpenMP team there, whose worker then spins on a core the
     * next call's shards need; other types go through {@code Nd4j.concat}.
     */
    static INDArray concat(INDArray[] parts) {
        long[] shape = parts[0].shape().clone();
        shape[0] = 0;
        for (INDArray p : parts) {
            shape[0] += p.size(0);
        }
        INDArray out = Nd4j.createUninitialized(parts[0].dataType(), shape, 'c');
        ByteBuffer dst = DirectFloats.of(out);
        if (dst == null) {
            return Nd4j.concat(0, parts);
        }
        for (INDArray p : parts) {
            ByteBuffer src = p.ordering() == 'c' ? DirectFloats.of(p) : null;
            if (src == null) {
                return Nd4j.concat(0, parts);
            }
            dst.put(src);
        }
        return out;
    }

    /** Stops the shard threads; the model itself stays usable. */
    @Override
    public synchronized void close() {
        closed = true;
        workers.shutdownNow();
    }
}
