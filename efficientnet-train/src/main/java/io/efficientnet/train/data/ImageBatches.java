package io.efficientnet.train.data;

import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Batches of decoded, transformed, normalised images for DL4J, prepared on worker threads ahead of the consumer.
 * <p>
 * Everything random is a function of (seed, epoch, image index): the epoch's order and each image's augmentation, so
 * a batch is the same whatever the thread count and an epoch can be resumed in the middle
 * ({@link #startEpoch(int, int)}). Images that cannot be read are skipped (reported once through
 * {@link SkippedImages}), so a batch may be smaller than the batch size. Features are NCHW float in RGB order,
 * passed through the pre-processor (the ImageNet normaliser); labels are one-hot, smoothed by ε:
 * {@code (1 − ε)·onehot + ε/K}.
 */
public final class ImageBatches implements DataSetIterator, AutoCloseable {

    private final List<LabeledImage> images;
    private final List<String> classes;
    private final int height;
    private final int width;
    private final int batchSize;
    private final boolean shuffle;
    private final long seed;
    private final int prefetch;
    private final ExecutorService pool;
    private final BatchAssembler assembler;
    private DataSetPreProcessor preProcessor;
    private boolean decoding = true;

    private int epoch;
    private int[] order;
    private int nextToSubmit;
    private final Deque<Future<Batch>> pending = new ArrayDeque<>();
    private Batch lookahead;

    /**
     * One batch of an epoch: which images (indexes into the folder's image list) and, when this iterator decodes,
     * their tensors.
     *
     * @param epoch   the epoch (0-based)
     * @param index   the batch's position in the epoch
     * @param members the images' indexes
     * @param data    features and labels, or null when decoding is left to the consumer
     *                ({@link #setDecoding(boolean)})
     */
    public record Batch(int epoch, int index, int[] members, DataSet data) {
        /** Examples in the batch: decoded ones, or the members when not decoded. */
        public int size() {
            return data != null ? data.numExamples() : members.length;
        }
    }

    /**
     * @param folder         the images and classes
     * @param transform      per-image transform to {@code height × width}
     * @param batchSize      images per batch
     * @param shuffle        shuffle each epoch (training) or keep file order (evaluation)
     * @param seed           seed of order and augmentation
     * @param workers        decoding threads
     * @param prefetch       batches prepared ahead
     * @param labelSmoothing ε (0 for evaluation)
     * @param skipped        where unreadable files are recorded
     */
    public ImageBatches(ImageFolder folder, SampleTransform transform, int height, int width, int batchSize,
            boolean shuffle, long seed, int workers, int prefetch, double labelSmoothing, SkippedImages skipped) {
        if (batchSize < 1 || workers < 1 || prefetch < 1 || height < 1 || width < 1) {
            throw new IllegalArgumentException("batch size, workers, prefetch and image size must be >= 1");
        }
        this.images = folder.images();
        this.classes = folder.classes();
        this.height = height;
        this.width = width;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.seed = seed;
        this.prefetch = prefetch;
        this.assembler = new BatchAssembler(images, classes.size(), transform, height, width, seed, labelSmoothing,
                null, skipped);
        this.pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "efficientnet-data");
            t.setDaemon(true);
            return t;
        });
        startEpoch(0, 0);
    }

    /** Batches per epoch (the last may be smaller). */
    public int batchesPerEpoch() {
        return (images.size() + batchSize - 1) / batchSize;
    }

    /** Number of images per epoch. */
    public int size() {
        return images.size();
    }

    /**
     * Restarts at batch {@code skipBatches} of {@code epoch} (0-based), dropping any prepared batches. Nothing is
     * read until the first {@link #hasNext()}.
     */
    public synchronized void startEpoch(int epoch, int skipBatches) {
        cancelPending();
        this.epoch = epoch;
        this.order = epochOrder(epoch);
        this.nextToSubmit = Math.min(skipBatches, batchesPerEpoch());
        this.lookahead = null;
    }

    /** The epoch being iterated. */
    public int epoch() {
        return epoch;
    }

    /**
     * Whether batches are decoded here (default) or only planned: with {@code false}, {@link #nextBatch()} returns
     * the members without data and no image is read (a Spark run decodes on the executors).
     */
    public synchronized void setDecoding(boolean decoding) {
        cancelPending();
        this.decoding = decoding;
        this.lookahead = null;
    }

    @Override
    public synchronized boolean hasNext() {
        if (!decoding) {
            return nextToSubmit < batchesPerEpoch();
        }
        fill();
        while (lookahead == null && !pending.isEmpty()) {
            Batch b = await(pending.pollFirst());
            if (nextToSubmit < batchesPerEpoch()) {
                submitNext();
            }
            if (b.data() != null) {
                lookahead = b;
            }
        }
        return lookahead != null;
    }

    @Override
    public synchronized DataSet next() {
        if (!decoding) {
            throw new IllegalStateException("decoding is off: use nextBatch()");
        }
        return nextBatch().data();
    }

    /** The next batch (with its data unless decoding is off). */
    public synchronized Batch nextBatch() {
        if (!hasNext()) {
            throw new NoSuchElementException("epoch " + epoch + " has no more batches");
        }
        if (!decoding) {
            int b = nextToSubmit++;
            return new Batch(epoch, b, members(b), null);
        }
        Batch b = lookahead;
        lookahead = null;
        return b;
    }

    @Override
    public DataSet next(int num) {
        throw new UnsupportedOperationException("batches have a fixed size of " + batchSize);
    }

    @Override
    public int inputColumns() {
        return 3 * height * width;
    }

    @Override
    public int totalOutcomes() {
        return classes.size();
    }

    @Override
    public boolean resetSupported() {
        return true;
    }

    @Override
    public boolean asyncSupported() {
        return false; // already prefetching
    }

    /** Restarts the current epoch from its first batch. */
    @Override
    public void reset() {
        startEpoch(epoch, 0);
    }

    @Override
    public int batch() {
        return batchSize;
    }

    @Override
    public void setPreProcessor(DataSetPreProcessor preProcessor) {
        this.preProcessor = preProcessor;
    }

    @Override
    public DataSetPreProcessor getPreProcessor() {
        return preProcessor;
    }

    @Override
    public List<String> getLabels() {
        return classes;
    }

    @Override
    public synchronized void close() {
        cancelPending();
        pool.shutdownNow();
    }

    private int[] epochOrder(int epoch) {
        List<Integer> idx = new ArrayList<>(images.size());
        for (int i = 0; i < images.size(); i++) {
            idx.add(i);
        }
        if (shuffle) {
            Collections.shuffle(idx, new Random(BatchAssembler.mix(seed, epoch, -1)));
        }
        return idx.stream().mapToInt(Integer::intValue).toArray();
    }

    private void fill() {
        while (pending.size() < prefetch && nextToSubmit < batchesPerEpoch()) {
            submitNext();
        }
    }

    private void submitNext() {
        int b = nextToSubmit++;
        int[] members = members(b);
        int ep = epoch;
        pending.addLast(pool.submit(() -> {
            DataSet ds = assembler.assemble(members, ep);
            if (ds != null && preProcessor != null) {
                preProcessor.preProcess(ds);
            }
            return new Batch(ep, b, members, ds);
        }));
    }

    private int[] members(int batch) {
        int from = batch * batchSize;
        int to = Math.min(images.size(), from + batchSize);
        return java.util.Arrays.copyOfRange(order, from, to);
    }

    private Batch await(Future<Batch> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a batch", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) {
                throw re;
            }
            if (c instanceof IOException io) {
                throw new UncheckedIOException(io);
            }
            throw new IllegalStateException(c);
        }
    }

    private void cancelPending() {
        for (Future<Batch> f : pending) {
            f.cancel(false); // never interrupt a read: an interrupted read looks like a broken file
        }
        pending.clear();
    }
}
