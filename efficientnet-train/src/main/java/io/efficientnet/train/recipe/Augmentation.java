package io.efficientnet.train.recipe;

import io.efficientnet.train.config.DataConfig;
import io.efficientnet.train.config.TrainConfig;
import io.efficientnet.train.data.SampleTransform;
import io.efficientnet.train.data.augment.RandAugment;
import io.efficientnet.train.data.augment.RandomResizedCrop;
import io.efficientnet.train.data.augment.TrainTransform;

/** The training augmentation a configuration asks for; the same on the driver and on Spark executors. */
public final class Augmentation {

    private Augmentation() {
    }

    /** Random-resized crop (aspect 3/4–4/3), flip and RandAugment of {@code config}, at its input resolution. */
    public static SampleTransform of(TrainConfig config) {
        DataConfig dc = config.data();
        int res = config.model().inputResolution();
        TrainTransform t = new TrainTransform(res, res, new RandomResizedCrop(dc.cropScaleMin(), 1.0, 3.0 / 4, 4.0 / 3),
                dc.flip(), dc.randAugmentLayers() > 0
                ? new RandAugment(dc.randAugmentLayers(), dc.randAugmentMagnitude()) : null);
        return t::apply;
    }
}
