package io.efficientnet.train.data.augment;

import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.*;

class LevelOpsTest {

    private static final BufferedImage NOISE = TestImages.noise(32, 16, 0, 255, 8);

    @Test
    void solarizeInvertsOnlyAboveThreshold() {
        BufferedImage out = LevelOps.solarize(NOISE, 128);
        forEachChannel((x, y, c) -> {
            int v = TestImages.channel(NOISE, x, y, c);
            assertEquals(v > 128 ? 255 - v : v, TestImages.channel(out, x, y, c));
        });
        assertEquals(0, TestImages.maxDiff(NOISE, LevelOps.solarize(NOISE, 255)), "threshold 255: unchanged");
    }

    @Test
    void posterizeKeepsTopBits() {
        BufferedImage out = LevelOps.posterize(NOISE, 3);
        forEachChannel((x, y, c) -> assertEquals(TestImages.channel(NOISE, x, y, c) & 0xe0,
                TestImages.channel(out, x, y, c)));
        assertEquals(0, TestImages.maxDiff(NOISE, LevelOps.posterize(NOISE, 8)));
        assertThrows(IllegalArgumentException.class, () -> LevelOps.posterize(NOISE, 0));
    }

    @Test
    void autoContrastStretchesEachChannelToFullRange() {
        BufferedImage src = TestImages.noise(40, 40, 100, 150, 9);
        src.setRGB(0, 0, 0x649696); // make sure 100 and 150 occur in every channel
        src.setRGB(1, 0, 0x966464);
        BufferedImage out = LevelOps.autoContrast(src);
        for (int c = 0; c < 3; c++) {
            int min = 255;
            int max = 0;
            for (int y = 0; y < 40; y++) {
                for (int x = 0; x < 40; x++) {
                    int v = TestImages.channel(out, x, y, c);
                    int s = TestImages.channel(src, x, y, c);
                    assertEquals((s - 100) * 255.0 / 50, v, 0.5 + 1e-9, "linear stretch");
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
            }
            assertEquals(0, min, "channel " + c);
            assertEquals(255, max, "channel " + c);
        }
        BufferedImage flat = TestImages.solid(5, 5, 0x808080);
        assertEquals(0, TestImages.maxDiff(flat, LevelOps.autoContrast(flat)), "flat channel kept");
    }

    @Test
    void equalizeSpreadsTwoLevelsToExtremes() {
        BufferedImage src = TestImages.solid(64, 64, 0x32_32_32); // 50
        for (int y = 32; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                src.setRGB(x, y, 0xc8_c8_c8); // 200
            }
        }
        BufferedImage out = LevelOps.equalize(src);
        assertEquals(0x000000, TestImages.rgb(out, 5, 5));
        assertEquals(0xffffff, TestImages.rgb(out, 5, 50));
        Set<Integer> values = new TreeSet<>();
        forEachChannel(out, (x, y, c) -> values.add(TestImages.channel(out, x, y, c)));
        assertEquals(Set.of(0, 255), values);
    }

    @Test
    void equalizeFlattensHistogramOfSkewedImage() {
        // Values crowded into 0..63: equalised values must use most of 0..255 and keep the order.
        BufferedImage src = TestImages.noise(64, 64, 0, 63, 10);
        BufferedImage out = LevelOps.equalize(src);
        int max = 0;
        for (int y = 0; y < 64; y++) {
            for (int x = 1; x < 64; x++) {
                int a = TestImages.channel(src, x - 1, y, 0);
                int b = TestImages.channel(src, x, y, 0);
                int ea = TestImages.channel(out, x - 1, y, 0);
                int eb = TestImages.channel(out, x, y, 0);
                assertTrue(Integer.compare(a, b) * Integer.compare(ea, eb) >= 0, "monotone");
                max = Math.max(max, eb);
            }
        }
        assertTrue(max >= 250, "top value " + max);
    }

    interface PixelCheck {
        void check(int x, int y, int c);
    }

    private static void forEachChannel(PixelCheck check) {
        forEachChannel(NOISE, check);
    }

    private static void forEachChannel(BufferedImage img, PixelCheck check) {
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                for (int c = 0; c < 3; c++) {
                    check.check(x, y, c);
                }
            }
        }
    }
}
