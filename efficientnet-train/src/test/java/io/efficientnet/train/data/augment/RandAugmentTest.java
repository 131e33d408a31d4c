package io.efficientnet.train.data.augment;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.awt.image.BufferedImage;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class RandAugmentTest {

    /** Values in 40..200 so that auto-contrast and equalise have something to change. */
    private static final BufferedImage IMG = TestImages.noise(37, 23, 40, 200, 13);

    @ParameterizedTest
    @EnumSource(value = RandAugmentOp.class, names = {"AUTO_CONTRAST", "EQUALIZE"}, mode = EnumSource.Mode.EXCLUDE)
    void magnitudeZeroLeavesImageUnchanged(RandAugmentOp op) {
        Random rng = new Random(1);
        for (int i = 0; i < 4; i++) { // both signs
            assertEquals(0, TestImages.maxDiff(IMG, op.apply(IMG, 0, rng)), op.name());
        }
    }

    @ParameterizedTest
    @EnumSource(RandAugmentOp.class)
    void fullMagnitudeKeepsSizeAndTypeAndChangesImage(RandAugmentOp op) {
        BufferedImage out = op.apply(IMG, 1, new Random(2));
        assertEquals(IMG.getWidth(), out.getWidth());
        assertEquals(IMG.getHeight(), out.getHeight());
        assertEquals(BufferedImage.TYPE_INT_RGB, out.getType());
        if (op != RandAugmentOp.IDENTITY) {
            // > 10: 4-bit posterize moves a value by at most 15; the other ops by far more.
            assertTrue(TestImages.maxDiff(IMG, out) > 10, op + " should visibly change the image");
        }
    }

    @Test
    void signedOpsUseBothSigns() {
        // Brightness at full magnitude: factor 1.9 (brighter) or 0.1 (darker), depending on the drawn sign.
        Random rng = new Random(3);
        boolean brighter = false;
        boolean darker = false;
        for (int i = 0; i < 40; i++) {
            int v = TestImages.channel(RandAugmentOp.BRIGHTNESS.apply(IMG, 1, rng), 0, 0, 0);
            brighter |= v > TestImages.channel(IMG, 0, 0, 0);
            darker |= v < TestImages.channel(IMG, 0, 0, 0);
        }
        assertTrue(brighter && darker);
    }

    @Test
    void solarizeAndPosterizeFollowMagnitude() {
        BufferedImage half = RandAugmentOp.SOLARIZE.apply(IMG, 0.5, new Random()); // threshold 127.5
        assertEquals(0, TestImages.maxDiff(LevelOps.solarize(IMG, 127.5), half));
        BufferedImage full = RandAugmentOp.POSTERIZE.apply(IMG, 1, new Random()); // 4 bits
        assertEquals(0, TestImages.maxDiff(LevelOps.posterize(IMG, 4), full));
        BufferedImage m9 = RandAugmentOp.POSTERIZE.apply(IMG, 9 / 30.0, new Random()); // 8 - round(1.2) = 7 bits
        assertEquals(0, TestImages.maxDiff(LevelOps.posterize(IMG, 7), m9));
    }

    @Test
    void rotateAtFullMagnitudeIsThirtyDegrees() {
        BufferedImage out = RandAugmentOp.ROTATE.apply(IMG, 1, new Random(4));
        BufferedImage ccw = GeometricOps.rotate(IMG, 30);
        BufferedImage cw = GeometricOps.rotate(IMG, -30);
        assertTrue(TestImages.maxDiff(out, ccw) == 0 || TestImages.maxDiff(out, cw) == 0);
    }

    @Test
    void zeroLayersIsIdentity() {
        BufferedImage out = new RandAugment(0, 30).apply(IMG, new Random(5));
        assertEquals(0, TestImages.maxDiff(IMG, out));
    }

    @Test
    void fixedSeedGivesIdenticalOutput() {
        RandAugment ra = new RandAugment(3, 15);
        for (long seed = 0; seed < 10; seed++) {
            assertEquals(0, TestImages.maxDiff(ra.apply(IMG, new Random(seed)), ra.apply(IMG, new Random(seed))));
        }
        int differing = 0;
        for (long seed = 0; seed < 10; seed++) {
            if (TestImages.maxDiff(ra.apply(IMG, new Random(seed)), ra.apply(IMG, new Random(seed + 100))) > 0) {
                differing++;
            }
        }
        assertTrue(differing >= 8, "different seeds should mostly differ, got " + differing);
    }

    @Test
    void opsChosenUniformly() {
        assertEquals(EnumSet.allOf(RandAugmentOp.class), EnumSet.copyOf(RandAugment.ops()));
        // One layer at full magnitude: each output is exactly one op's result (either sign), which names the op drawn.
        Map<RandAugmentOp, List<BufferedImage>> results = new EnumMap<>(RandAugmentOp.class);
        for (RandAugmentOp op : RandAugmentOp.values()) {
            results.put(op, op.signed() ? List.of(op.transform(IMG, op.maxLevel()), op.transform(IMG, -op.maxLevel()))
                    : List.of(op.transform(IMG, op.maxLevel())));
        }
        RandAugment one = new RandAugment(1, RandAugment.MAX_MAGNITUDE);
        int draws = 1400;
        Map<RandAugmentOp, Integer> counts = new EnumMap<>(RandAugmentOp.class);
        for (long seed = 0; seed < draws; seed++) {
            BufferedImage out = one.apply(IMG, new Random(seed));
            List<RandAugmentOp> matching = results.keySet().stream()
                    .filter(op -> results.get(op).stream().anyMatch(r -> TestImages.maxDiff(r, out) == 0)).toList();
            assertEquals(1, matching.size(), "seed " + seed + " gives the result of " + matching);
            counts.merge(matching.get(0), 1, Integer::sum);
        }
        // Pearson's chi-square against uniform, 13 degrees of freedom: above 34.53 with probability 0.001 when the
        // choice is uniform; an op never drawn adds about 100, one drawn twice as often as the others about 75.
        double expected = (double) draws / RandAugment.ops().size();
        double chi2 = 0;
        for (RandAugmentOp op : RandAugmentOp.values()) {
            double d = counts.getOrDefault(op, 0) - expected;
            chi2 += d * d / expected;
        }
        assertTrue(chi2 < 34.53, "counts " + counts + ", chi-square " + chi2);
    }

    @Test
    void outputKeepsSizeAndTypeForOtherInputTypes() {
        BufferedImage gray = new BufferedImage(17, 9, BufferedImage.TYPE_BYTE_GRAY);
        BufferedImage out = new RandAugment(2, 9).apply(gray, new Random(7));
        assertEquals(17, out.getWidth());
        assertEquals(9, out.getHeight());
        assertEquals(BufferedImage.TYPE_INT_RGB, out.getType());
    }

    @Test
    void sourceIsNeverModified() {
        BufferedImage copy = TestImages.noise(37, 23, 40, 200, 13);
        RandAugment ra = new RandAugment(4, 30);
        for (long seed = 0; seed < 20; seed++) {
            ra.apply(IMG, new Random(seed));
        }
        assertEquals(0, TestImages.maxDiff(copy, IMG));
    }

    @Test
    void argumentsValidated() {
        IllegalArgumentException n = assertThrows(IllegalArgumentException.class, () -> new RandAugment(-1, 9));
        assertTrue(n.getMessage().contains("numLayers") && n.getMessage().contains("-1"), n.getMessage());
        IllegalArgumentException m = assertThrows(IllegalArgumentException.class, () -> new RandAugment(2, 31));
        assertTrue(m.getMessage().contains("magnitude") && m.getMessage().contains("31"), m.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RandAugmentOp.ROTATE.apply(IMG, 1.5, new Random()));
        assertEquals(0.3, new RandAugment(2, 9).magnitudeFraction(), 1e-12);
    }
}
