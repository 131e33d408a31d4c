package io.efficientnet.train.data.augment;

import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;

import static org.junit.jupiter.api.Assertions.*;

class EnhanceTest {

    private static final BufferedImage NOISE = TestImages.noise(20, 12, 0, 255, 12);

    @Test
    void factorOneIsIdentity() {
        assertEquals(0, TestImages.maxDiff(NOISE, Enhance.brightness(NOISE, 1)));
        assertEquals(0, TestImages.maxDiff(NOISE, Enhance.color(NOISE, 1)));
        assertEquals(0, TestImages.maxDiff(NOISE, Enhance.contrast(NOISE, 1)));
        assertEquals(0, TestImages.maxDiff(NOISE, Enhance.sharpness(NOISE, 1)));
    }

    @Test
    void brightnessScalesChannels() {
        BufferedImage half = Enhance.brightness(TestImages.solid(3, 3, 0xc8_64_0a), 0.5);
        assertEquals(0x64_32_05, TestImages.rgb(half, 1, 1));
        BufferedImage bright = Enhance.brightness(TestImages.solid(3, 3, 0xc8_64_0a), 1.9);
        assertEquals(0xff_be_13, TestImages.rgb(bright, 1, 1), "clipped at 255");
    }

    @Test
    void colorZeroGivesLumaGray() {
        BufferedImage gray = Enhance.color(TestImages.solid(2, 2, 0xff0000), 0);
        assertEquals(0x4c4c4c, TestImages.rgb(gray, 0, 0), "0.299 * 255 = 76");
        BufferedImage out = Enhance.color(NOISE, 0);
        for (int y = 0; y < 12; y++) {
            for (int x = 0; x < 20; x++) {
                int r = TestImages.channel(out, x, y, 0);
                assertEquals(r, TestImages.channel(out, x, y, 1));
                assertEquals(r, TestImages.channel(out, x, y, 2));
            }
        }
    }

    @Test
    void contrastZeroGivesMeanGray() {
        BufferedImage src = TestImages.solid(2, 1, 0x000000);
        src.setRGB(1, 0, 0xc8c8c8);
        BufferedImage out = Enhance.contrast(src, 0);
        assertEquals(0x646464, TestImages.rgb(out, 0, 0));
        assertEquals(0x646464, TestImages.rgb(out, 1, 0));
    }

    @Test
    void sharpnessZeroSmoothsInteriorKeepsBorder() {
        BufferedImage src = TestImages.solid(5, 5, 0);
        src.setRGB(2, 2, 0xd0d0d0); // 208 = 13 * 16
        BufferedImage out = Enhance.sharpness(src, 0);
        assertEquals(80, TestImages.channel(out, 2, 2, 0), "centre 5/13 of 208");
        assertEquals(16, TestImages.channel(out, 1, 1, 0), "neighbour 1/13 of 208");
        assertEquals(0, TestImages.channel(out, 0, 0, 0), "border kept");
        BufferedImage sharp = Enhance.sharpness(src, 2);
        assertEquals(255, TestImages.channel(sharp, 2, 2, 0), "208 + (208 - 80), clipped");
    }
}
