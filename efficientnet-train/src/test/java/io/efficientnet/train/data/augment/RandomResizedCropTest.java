package io.efficientnet.train.data.augment;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class RandomResizedCropTest {

    private static final RandomResizedCrop CROP = RandomResizedCrop.DEFAULT;

    /**
     * Every box lies inside the image and, unless it is the fallback, its area fraction and aspect ratio are in range
     * up to the rounding of w and h to whole pixels; the draws cover the range.
     */
    @ParameterizedTest
    @CsvSource({"200, 100, 133, 100, 33, 0, 0.60", "200, 200, 200, 200, 0, 0, 0.90", "90, 160, 90, 120, 0, 20, 0.55"})
    void boxesStayInsideAndInRange(int srcW, int srcH, int fbW, int fbH, int fbX, int fbY, double expectMaxArea) {
        Random rng = new Random(42);
        double area = (double) srcW * srcH;
        double minFrac = 1;
        double maxFrac = 0;
        double minRatio = 10;
        double maxRatio = 0;
        int fallbacks = 0;
        for (int i = 0; i < 5000; i++) {
            Box b = CROP.sample(srcW, srcH, rng);
            assertTrue(b.x() >= 0 && b.y() >= 0 && b.x() + b.w() <= srcW && b.y() + b.h() <= srcH, b::toString);
            boolean areaOk = (b.w() + 0.5) * (b.h() + 0.5) >= 0.08 * area && (b.w() - 0.5) * (b.h() - 0.5) <= area;
            boolean ratioOk = (b.w() + 0.5) / (b.h() - 0.5) >= 3.0 / 4 && (b.w() - 0.5) / (b.h() + 0.5) <= 4.0 / 3;
            if (!(areaOk && ratioOk)) {
                assertEquals(new Box(fbX, fbY, fbW, fbH), b, "out-of-range box must be the centred fallback");
                fallbacks++;
                continue;
            }
            double frac = b.w() * b.h() / area;
            double ratio = (double) b.w() / b.h();
            minFrac = Math.min(minFrac, frac);
            maxFrac = Math.max(maxFrac, frac);
            minRatio = Math.min(minRatio, ratio);
            maxRatio = Math.max(maxRatio, ratio);
        }
        assertTrue(minFrac < 0.15, "smallest area fraction " + minFrac);
        assertTrue(maxFrac > expectMaxArea, "largest area fraction " + maxFrac);
        assertTrue(minRatio < 0.8 && maxRatio > 1.25, "aspect ratios " + minRatio + ".." + maxRatio);
        assertTrue(fallbacks < 50, "fallback taken " + fallbacks + " times");
    }

    @Test
    void positionsSpanTheFreeRange() {
        Random rng = new Random(3);
        int minX = Integer.MAX_VALUE;
        int maxRight = 0;
        for (int i = 0; i < 2000; i++) {
            Box b = CROP.sample(200, 100, rng);
            minX = Math.min(minX, b.x());
            maxRight = Math.max(maxRight, b.x() + b.w());
        }
        assertEquals(0, minX);
        assertEquals(200, maxRight);
    }

    @Test
    void fallbackIsCentredWithRatioClamped() {
        // A 0.9..1 area can never fit a 4:1 image with aspect ≤ 4/3, so all ten attempts fail.
        RandomResizedCrop big = new RandomResizedCrop(0.9, 1.0, 3.0 / 4, 4.0 / 3);
        assertEquals(new Box(66, 0, 67, 50), big.sample(200, 50, new Random(1)));
        // Tall image: width kept, height = width / (3/4).
        assertEquals(new Box(0, 70, 30, 40), big.sample(30, 180, new Random(1)));
    }

    @Test
    void sameSeedSameBoxesDifferentSeedDifferent() {
        List<Box> a = draw(7);
        assertEquals(a, draw(7));
        assertNotEquals(a, draw(8));
    }

    private static List<Box> draw(long seed) {
        Random rng = new Random(seed);
        List<Box> boxes = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            boxes.add(CROP.sample(320, 240, rng));
        }
        return boxes;
    }

    @Test
    void applyResizesToRequestedSize() {
        BufferedImage out = CROP.apply(TestImages.noise(120, 80, 0, 255, 1), 32, 24, new Random(1));
        assertEquals(32, out.getWidth());
        assertEquals(24, out.getHeight());
        assertEquals(BufferedImage.TYPE_INT_RGB, out.getType());
    }

    @Test
    void badArgumentsRejectedNamingTheValue() {
        assertMessage("scaleMin", "0.0", () -> new RandomResizedCrop(0, 1, 0.75, 1.33));
        assertMessage("scaleMax", "1.5", () -> new RandomResizedCrop(0.08, 1.5, 0.75, 1.33));
        assertMessage("scaleMax", "0.05", () -> new RandomResizedCrop(0.08, 0.05, 0.75, 1.33));
        assertMessage("ratioMin", "-1.0", () -> new RandomResizedCrop(0.08, 1, -1, 1.33));
        assertMessage("ratioMax", "0.5", () -> new RandomResizedCrop(0.08, 1, 0.75, 0.5));
        assertMessage("ratioMax", "NaN", () -> new RandomResizedCrop(0.08, 1, 0.75, Double.NaN));
        assertMessage("image size", "0x10", () -> CROP.sample(0, 10, new Random()));
        assertMessage("output size", "0x5", () -> CROP.apply(TestImages.solid(4, 4, 0), 0, 5, new Random()));
    }

    private static void assertMessage(String name, String value, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(name) && e.getMessage().contains(value), e.getMessage());
    }
}
