package io.efficientnet.train.data.augment;

import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class HorizontalFlipTest {

    @Test
    void mirrorSwapsColumnsNeverRows() {
        BufferedImage src = TestImages.noise(7, 5, 0, 255, 11);
        src.setRGB(0, 0, 0xff0000); // distinct top-left marker
        BufferedImage out = HorizontalFlip.mirror(src);
        for (int y = 0; y < 5; y++) {
            for (int x = 0; x < 7; x++) {
                assertEquals(TestImages.rgb(src, 6 - x, y), TestImages.rgb(out, x, y), "pixel " + x + "," + y);
            }
        }
        assertEquals(0xff0000, TestImages.rgb(out, 6, 0), "marker moves to top-right");
        assertNotEquals(0xff0000, TestImages.rgb(out, 0, 4), "marker must not move to a bottom corner");
        assertEquals(0xff0000, TestImages.rgb(src, 0, 0), "source untouched");
    }

    @Test
    void probabilityZeroAndOne() {
        BufferedImage src = TestImages.noise(6, 4, 0, 255, 2);
        BufferedImage mirrored = HorizontalFlip.mirror(src);
        Random rng = new Random(5);
        for (int i = 0; i < 200; i++) {
            assertSame(src, new HorizontalFlip(0).apply(src, rng));
            assertEquals(0, TestImages.maxDiff(mirrored, new HorizontalFlip(1).apply(src, rng)));
        }
    }

    @Test
    void halfProbabilityFlipsAboutHalf() {
        BufferedImage src = TestImages.noise(4, 2, 0, 255, 3);
        Random rng = new Random(9);
        int n = 4000;
        int flips = 0;
        for (int i = 0; i < n; i++) {
            if (HorizontalFlip.DEFAULT.apply(src, rng) != src) {
                flips++;
            }
        }
        // Binomial(4000, 0.5): sd ≈ 31.6; allow 5 sd.
        assertEquals(n / 2.0, flips, 160, "flips");
    }

    @Test
    void probabilityValidated() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new HorizontalFlip(1.5));
        assertTrue(e.getMessage().contains("1.5"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new HorizontalFlip(Double.NaN));
    }
}
