package io.efficientnet.core.weights;

import io.efficientnet.core.model.Variant;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** The ImageNet weights table: files, checksums and each variant's reference evaluation preprocessing. */
class ImageNetWeightsTest {

    @Test
    void everyVariantHasItsResolutionAndTheReferenceCrop() {
        assertEquals(Variant.values().length, ImageNetWeights.all().size());
        double[] expectedCrop = {0.875, 0.882, 0.890, 0.904, 0.922, 0.934, 0.943, 0.949};
        for (Variant v : Variant.values()) {
            ImageNetWeights w = ImageNetWeights.of(v);
            assertEquals(v, w.variant());
            assertEquals(v.scaling().resolution(), w.resolution(), v.name());
            assertEquals(expectedCrop[v.ordinal()], w.cropFraction(), 5e-4, v + " crops resolution/(resolution+32)");
            assertEquals("efficientnet" + v.id() + ".h5", w.fileName(true));
            assertEquals("efficientnet" + v.id() + "_notop.h5", w.fileName(false));
            assertTrue(w.md5(true).matches("[0-9a-f]{32}") && w.md5(false).matches("[0-9a-f]{32}"));
            assertNotEquals(w.md5(true), w.md5(false));
            assertEquals(1000, w.labels().size());
        }
        assertEquals(0.875, ImageNetWeights.of(Variant.B0).cropFraction(), 1e-12, "224/256 exactly");
        assertEquals("902e53a9f72be733fc0bcb005b3ebbac", ImageNetWeights.of(Variant.B0).md5(true));
    }

    @Test
    void theWeightSourceReadsTheTableAndTheArraysCannotBeChangedFromOutside() {
        WeightSource s = WeightSource.imagenet(Variant.B3, false);
        assertTrue(s.uri().toString().endsWith("/efficientnetb3_notop.h5"), s.uri().toString());
        assertEquals(ImageNetWeights.of(Variant.B3).md5(false), s.md5());
        ImageNetWeights.of(Variant.B0).mean()[0] = 99f;
        assertEquals(ImageNetPreprocessing.MEAN[0], ImageNetWeights.of(Variant.B0).mean()[0]);
    }
}
