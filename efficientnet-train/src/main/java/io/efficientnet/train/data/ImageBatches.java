package io.efficientnet.train.data;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

import java.awt.image.BufferedImage;
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
    private final SampleTransform transform;
    private final int height;
    private final int width;
    private final int batchSize;
    private final boolean shuffle;
    private final long seed;
    private final int prefetch;
    private final double labelSmoothing;
    private final SkippedImages skipped;
    private final ExecutorService pool;
    private DataSetPreProcessor preProcessor;

    private int epoch;
    private int[] order;
    private int nextToSubmit;
    private final Deque<Future<DataSet>> pending = new ArrayDeque<>();
    private DataSet lookahead;

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
        this.transform = transform;
        this.height = height;
        this.width = width;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.seed = seed;
        this.prefetch = prefetch;
        this.labelSmoothing = labelSmoothing;
        this.skipped = skipped;
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

    @Override
    public synchronized boolean hasNext() {
        fill();
        while (lookahead == null && !pending.isEmpty()) {
            DataSet ds = await(pending.pollFirst());
            if (nextToSubmit < batchesPerEpoch()) {
                submitNext();
            }
            if (ds != null) {
                lookahead = ds;
            }
        }
        return lookahead != null;
    }

    @Override
    public synchronized DataSet next() {
        if (!hasNext()) {
            throw new NoSuchElementException("epoch " + epoch + " has no more batches");
        }
        DataSet ds = lookahead;
        lookahead = null;
        return ds;
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
            Collections.shuffle(idx, new Random(mix(seed, epoch, -1)));
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
        int from = b * batchSize;
        int to = Math.min(images.size(), from + batchSize);
        int[] members = java.util.Arrays.copyOfRange(order, from, to);
        int ep = epoch;
        pending.addLast(pool.submit(() -> makeBatch(members, ep)));
    }

    private DataSet makeBatch(int[] members, int ep) {
        int plane = 3 * height * width;
        float[] pixels = new float[members.length * plane];
        int[] labels = new int[members.length];
        int n = 0;
        for (int index : members) {
            LabeledImage li = images.get(index);
            if (skipped.isSkipped(li.file())) {
                continue;
            }
            BufferedImage img;
            try {
                img = ImageDecoder.readRgb(li.file());
            } catch (IOException e) {
                if (Thread.currentThread().isInterrupted()) {
                    return null; // the batch was cancelled (close): not the file's fault
                }
                skipped.skip(li.file(), e.getMessage());
                continue;
            }
            BufferedImage out = transform.apply(img, new Random(mix(seed, ep, index)));
            if (out.getWidth() != width || out.getHeight() != height) {
                throw new IllegalStateException("transform produced " + out.getWidth() + "x" + out.getHeight()
                        + " for " + li.file() + ", expected " + width + "x" + height);
            }
            ImageDecoder.toChw(out, pixels, n * plane);
            labels[n++] = li.label();
        }
        if (n == 0) {
            return null;
        }
        int k = classes.size();
        float off = (float) (labelSmoothing / k);
        float on = (float) (1 - labelSmoothing) + off;
        float[] y = new float[n * k];
        java.util.Arrays.fill(y, off);
        for (int i = 0; i < n; i++) {
            y[i * k + labels[i]] = on;
        }
        INDArray features = Nd4j.create(java.util.Arrays.copyOf(pixels, n * plane), new long[] {n, 3, height, width},
                'c');
        DataSet ds = new DataSet(features, Nd4j.create(y, new long[] {n, k}, 'c'));
        if (preProcessor != null) {
            preProcessor.preProcess(ds);
        }
        return ds;
    }

    private DataSet await(Future<DataSet> f) {
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
        for (Future<DataSet> f : pending) {
            f.cancel(false); // never interrupt a read: an interrupted read looks like a broken file
        }
        pending.clear();
    }

    /** A well-mixed 64-bit seed from (seed, epoch, index) (SplitMix64 finaliser). */
    static long mix(long seed, int epoch, int index) {
        long z = seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + index * 0x94D049BB133111EBL + 1;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
