package io.efficientnet.core.onednn;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.memory.pointers.PagedPointer;

import java.util.ArrayList;
import java.util.List;

/**
 * Native buffers for the tensors of a plan, reused once a tensor's last reader has run (best fit by size), aligned
 * to 64 bytes as oneDNN's kernels prefer. Not thread-safe; used while a plan is built.
 */
final class BufferPool implements AutoCloseable {

    private static final int ALIGNMENT = 64;

    /**
     * System property: when {@code true}, training plans built afterwards fill every pool buffer with NaN before each
     * step ({@link #poison}), and each backward temporary or gradient again right after its last reader, so that a
     * step reading what it did not write (or what another use of the same buffer wrote) shows in the loss and
     * gradients.
     */
    static final String POISON_PROPERTY = "efficientnet.onednn.poisonBuffers";

    /** One allocation: {@code address} is aligned, {@code capacity} bytes from it are usable. */
    static final class Buffer {
        private final BytePointer raw;
        final Pointer address;
        final long capacity;

        private Buffer(long capacity) {
            this.raw = new BytePointer(capacity + ALIGNMENT);
            long a = raw.address();
            this.address = new PagedPointer((a + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT);
            this.capacity = capacity;
        }
    }

    private final List<Buffer> all = new ArrayList<>();
    private final List<Buffer> free = new ArrayList<>();

    /** A buffer of at least {@code bytes}, reused if a free one fits. */
    Buffer take(long bytes) {
        Buffer best = null;
        for (Buffer b : free) {
            if (b.capacity >= bytes && (best == null || b.capacity < best.capacity)) {
                best = b;
            }
        }
        if (best != null) {
            free.remove(best);
            return best;
        }
        Buffer b = new Buffer(Math.max(bytes, 1));
        all.add(b);
        return b;
    }

    /** Returns a buffer for later {@link #take}s. */
    void give(Buffer b) {
        free.add(b);
    }

    /**
     * Fills every buffer with NaN (all bits set), so that a step reading data that was not written earlier in the
     * same run gives NaN (a check for tests: {@link #POISON_PROPERTY}).
     */
    void poison() {
        for (Buffer b : all) {
            poison(b);
        }
    }

    /** Fills {@code b} with NaN (all bits set). */
    static void poison(Buffer b) {
        Pointer.memset(b.address, 0xFF, b.capacity);
    }

    /** Bytes allocated (the plan's activation memory). */
    long allocatedBytes() {
        return all.stream().mapToLong(b -> b.capacity).sum();
    }

    @Override
    public void close() {
        for (Buffer b : all) {
            b.raw.close();
        }
        all.clear();
        free.clear();
    }
}
