package io.efficientnet.train.data;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.factory.Nd4j;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Turns a list of image indexes into one {@link DataSet}: decode, transform (random from (seed, epoch, image)),
 * NCHW float RGB, pre-processor, smoothed one-hot labels. The same code prepares batches on the local data threads
 * ({@link ImageBatches}) and on Spark executors, so every route trains on identical data.
 */
public final class BatchAssembler {

    private final List<LabeledImage> images;
    private final int numClasses;
    private final SampleTransform transform;
    private final int height;
    private final int width;
    private final long seed;
    private final double labelSmoothing;
    private final DataSetPreProcessor preProcessor;
    private final SkippedImages skipped;

    /**
     * @param images         all images of the split, indexed by the batch members
     * @param numClasses     number of classes (label width)
     * @param transform      per-image transform to {@code height × width}
     * @param seed           seed of the augmentation
     * @param labelSmoothing ε of {@code (1 − ε)·onehot + ε/K}
     * @param preProcessor   applied to each batch (the ImageNet normaliser), or null
     * @param skipped        where unreadable files are recorded
     */
    public BatchAssembler(List<LabeledImage> images, int numClasses, SampleTransform transform, int height, int width,
            long seed, double labelSmoothing, DataSetPreProcessor preProcessor, SkippedImages skipped) {
        if (height < 1 || width < 1 || numClasses < 1) {
            throw new IllegalArgumentException("image size and class count must be >= 1");
        }
        this.images = images;
        this.numClasses = numClasses;
        this.transform = transform;
        this.height = height;
        this.width = width;
        this.seed = seed;
        this.labelSmoothing = labelSmoothing;
        this.preProcessor = preProcessor;
        this.skipped = skipped;
    }

    /**
     * The batch of {@code members} (indexes into the image list) as augmented in {@code epoch}; unreadable images
     * are skipped. Returns null when none could be read, or when the thread was interrupted during a read.
     */
    public DataSet assemble(int[] members, int epoch) {
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
            BufferedImage out = transform.apply(img, new Random(mix(seed, epoch, index)));
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
        float off = (float) (labelSmoothing / numClasses);
        float on = (float) (1 - labelSmoothing) + off;
        float[] y = new float[n * numClasses];
        Arrays.fill(y, off);
        for (int i = 0; i < n; i++) {
            y[i * numClasses + labels[i]] = on;
        }
        INDArray features = Nd4j.create(Arrays.copyOf(pixels, n * plane), new long[] {n, 3, height, width}, 'c');
        DataSet ds = new DataSet(features, Nd4j.create(y, new long[] {n, numClasses}, 'c'));
        if (preProcessor != null) {
            preProcessor.preProcess(ds);
        }
        return ds;
    }

    /** A well-mixed 64-bit seed from (seed, epoch, index) (SplitMix64 finaliser). */
    static long mix(long seed, int epoch, int index) {
        long z = seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + index * 0x94D049BB133111EBL + 1;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
