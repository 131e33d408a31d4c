/**
 * Training-time image augmentation on {@code TYPE_INT_RGB} images: random-resized crop, horizontal flip and
 * RandAugment, combined by {@link io.efficientnet.train.data.augment.TrainTransform}. Every random choice is drawn
 * from a {@link java.util.Random} supplied by the caller, so seeding it per image makes the result independent of
 * threads and ordering. No operation modifies its input image.
 */
package io.efficientnet.train.data.augment;
