package io.efficientnet.train.data.augment;

import org.junit.jupiter.api.Test;

import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;

import static org.junit.jupiter.api.Assertions.*;

class GeometricOpsTest {

    @Test
    void rotate90CounterClockwiseMovesCornerMark() {
        BufferedImage src = TestImages.noise(8, 8, 10, 200, 4);
        src.setRGB(0, 0, 0xffffff); // top-left marker
        BufferedImage ccw = GeometricOps.rotate(src, 90);
        assertEquals(0xffffff, TestImages.rgb(ccw, 0, 7), "top-left goes to bottom-left");
        // Exact permutation of pixels: out(x, y) = in(W-1-y, x).
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 8; x++) {
                assertEquals(TestImages.rgb(src, 7 - y, x), TestImages.rgb(ccw, x, y), "pixel " + x + "," + y);
            }
        }
        assertEquals(0xffffff, TestImages.rgb(GeometricOps.rotate(src, -90), 7, 0), "clockwise: to top-right");
    }

    @Test
    void translateShiftsContentAndFillsBlack() {
        BufferedImage src = TestImages.noise(10, 6, 1, 255, 5);
        BufferedImage out = GeometricOps.translate(src, 3, -2);
        for (int y = 0; y < 6; y++) {
            for (int x = 0; x < 10; x++) {
                int sx = x - 3;
                int sy = y + 2;
                int expected = sx >= 0 && sy < 6 ? TestImages.rgb(src, sx, sy) : 0;
                assertEquals(expected, TestImages.rgb(out, x, y), "pixel " + x + "," + y);
            }
        }
    }

    @Test
    void shearXKeepsMiddleRowAndShiftsOthers() {
        BufferedImage src = TestImages.noise(21, 9, 1, 255, 6);
        BufferedImage out = GeometricOps.shearX(src, 0.5);
        for (int x = 0; x < 21; x++) {
            assertEquals(TestImages.rgb(src, x, 4), TestImages.rgb(out, x, 4), "middle row, x=" + x);
        }
        // Row 6 is 2 rows below centre: content moves right by 0.5 * 2 = 1 pixel.
        for (int x = 1; x < 21; x++) {
            assertEquals(TestImages.rgb(src, x - 1, 6), TestImages.rgb(out, x, 6), "row 6, x=" + x);
        }
        assertEquals(0, TestImages.rgb(out, 0, 6), "uncovered pixel is black");
    }

    @Test
    void shearYKeepsMiddleColumn() {
        BufferedImage src = TestImages.noise(9, 15, 1, 255, 7);
        BufferedImage out = GeometricOps.shearY(src, -0.3);
        for (int y = 0; y < 15; y++) {
            assertEquals(TestImages.rgb(src, 4, y), TestImages.rgb(out, 4, y), "middle column, y=" + y);
        }
        assertTrue(TestImages.maxDiff(src, out) > 50, "other columns move");
    }

    @Test
    void halfPixelShiftInterpolatesBilinearly() {
        BufferedImage src = TestImages.solid(4, 1, 0);
        src.setRGB(1, 0, 0x646464); // 100
        src.setRGB(2, 0, 0xc8c8c8); // 200
        BufferedImage out = GeometricOps.translate(src, 0.5, 0);
        assertEquals(50, TestImages.channel(out, 1, 0, 0));
        assertEquals(150, TestImages.channel(out, 2, 0, 0));
        assertEquals(100, TestImages.channel(out, 3, 0, 0));
    }

    @Test
    void singularTransformRejected() {
        assertThrows(IllegalArgumentException.class,
                () -> GeometricOps.warp(TestImages.solid(3, 3, 0), new AffineTransform(0, 0, 0, 0, 0, 0)));
    }
}
