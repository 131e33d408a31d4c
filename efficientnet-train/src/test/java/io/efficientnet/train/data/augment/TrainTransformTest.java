package io.efficientnet.train.data.augment;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.awt.image.BufferedImage;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class TrainTransformTest {

    @ParameterizedTest
    @ValueSource(ints = {0xff0000, 0x0000ff, 0x00ff00})
    void pureColourSurvivesCropAndFlip(int colour) {
        BufferedImage src = TestImages.solid(300, 200, colour);
        TrainTransform t = new TrainTransform(48, 64, RandomResizedCrop.DEFAULT, 1.0, null);
        for (long seed = 0; seed < 20; seed++) {
            BufferedImage out = t.apply(src, new Random(seed));
            for (int y = 0; y < 48; y++) {
                for (int x = 0; x < 64; x++) {
                    assertEquals(colour, TestImages.rgb(out, x, y), "seed " + seed + " pixel " + x + "," + y);
                }
            }
        }
    }

    @Test
    void outputSizeTypeAndDeterminism() {
        BufferedImage src = TestImages.noise(120, 90, 0, 255, 14);
        TrainTransform t = new TrainTransform(40, 56, RandomResizedCrop.DEFAULT, 0.5, RandAugment.DEFAULT);
        BufferedImage a = t.apply(src, new Random(99));
        assertEquals(56, a.getWidth());
        assertEquals(40, a.getHeight());
        assertEquals(BufferedImage.TYPE_INT_RGB, a.getType());
        assertEquals(0, TestImages.maxDiff(a, t.apply(src, new Random(99))));
        assertTrue(TestImages.maxDiff(a, t.apply(src, new Random(100))) > 0);
    }

    @Test
    void stepsRunInOrderCropThenFlip() {
        // With flip probability 1, the result is the mirror of the crop drawn from the same seed.
        BufferedImage src = TestImages.noise(80, 60, 0, 255, 15);
        BufferedImage cropped = RandomResizedCrop.DEFAULT.apply(src, 32, 32, new Random(21));
        BufferedImage out = new TrainTransform(32, 32, RandomResizedCrop.DEFAULT, 1.0, null).apply(src,
                new Random(21));
        assertEquals(0, TestImages.maxDiff(HorizontalFlip.mirror(cropped), out));
    }

    @Test
    void standardDefaults() {
        TrainTransform t = TrainTransform.standard(224);
        assertEquals(224, t.height());
        assertEquals(224, t.width());
        assertEquals(RandomResizedCrop.DEFAULT, t.crop());
        assertEquals(0.5, t.flipProbability());
        assertNull(t.randAugment());
        assertEquals(RandAugment.DEFAULT, t.withRandAugment(RandAugment.DEFAULT).randAugment());
    }

    @Test
    void argumentsValidated() {
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
                () -> new TrainTransform(0, 10, RandomResizedCrop.DEFAULT, 0.5, null));
        assertTrue(size.getMessage().contains("0x10"), size.getMessage());
        IllegalArgumentException p = assertThrows(IllegalArgumentException.class,
                () -> new TrainTransform(10, 10, RandomResizedCrop.DEFAULT, -0.1, null));
        assertTrue(p.getMessage().contains("-0.1"), p.getMessage());
        assertThrows(NullPointerException.class, () -> new TrainTransform(10, 10, null, 0.5, null));
    }
}
