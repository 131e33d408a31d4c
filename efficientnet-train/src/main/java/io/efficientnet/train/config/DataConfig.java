package io.efficientnet.train.config;

/**
 * Where the images are and how batches are made ({@code data:} in the YAML).
 *
 * @param path                 an ImageNet-style tree ({@code train/<class>/*}, {@code val/<class>/*}) or one folder of
 *                             class folders split by {@code valSplit}
 * @param valSplit             fraction of each class held out for validation when there is no {@code val/} folder
 * @param batchSize            images per training step (over all workers)
 * @param workers              decoding/augmentation threads
 * @param prefetch             batches prepared ahead of the trainer
 * @param cropScaleMin         smallest area fraction of the random-resized crop (0.08 in the reference)
 * @param flip                 probability of a horizontal flip
 * @param randAugmentLayers    RandAugment N (operations per image; 0 = off)
 * @param randAugmentMagnitude RandAugment M on the 0..30 scale
 * @param labelSmoothing       label smoothing ε (targets (1−ε)·one-hot + ε/K)
 * @param evalCropFraction     centre-crop fraction for evaluation (0.875 in the reference)
 */
public record DataConfig(String path, double valSplit, int batchSize, int workers, int prefetch, double cropScaleMin,
                         double flip, int randAugmentLayers, int randAugmentMagnitude, double labelSmoothing,
                         double evalCropFraction) {

    public DataConfig {
        if (path == null || path.isBlank()) {
            throw new IllegalArgumentException("data.path must name a folder of images");
        }
        ConfigChecks.range("data.val_split", valSplit, 0, 1, false);
        ConfigChecks.atLeast("data.batch_size", batchSize, 1);
        ConfigChecks.atLeast("data.workers", workers, 1);
        ConfigChecks.atLeast("data.prefetch", prefetch, 1);
        ConfigChecks.range("data.crop_scale_min", cropScaleMin, 1e-6, 1, true);
        ConfigChecks.range("data.flip", flip, 0, 1, true);
        ConfigChecks.atLeast("data.rand_augment_layers", randAugmentLayers, 0);
        ConfigChecks.range("data.rand_augment_magnitude", randAugmentMagnitude, 0, 30, true);
        ConfigChecks.range("data.label_smoothing", labelSmoothing, 0, 1, false);
        ConfigChecks.range("data.eval_crop_fraction", evalCropFraction, 1e-6, 1, true);
    }
}
