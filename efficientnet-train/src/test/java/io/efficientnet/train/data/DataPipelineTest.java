package io.efficientnet.train.data;

import io.efficientnet.train.TestImages;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.dataset.DataSet;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Folder layouts and their errors, batches (labels, smoothing, channel order), determinism and skipping. */
class DataPipelineTest {

    @TempDir
    static Path tmp;
    static Path tree;

    @BeforeAll
    static void makeTree() throws IOException {
        tree = tmp.resolve("tree");
        TestImages.writeTree(tree, 5, 2, 3);
    }

    /**
     * {@link EvalTransform#read}: the centre crop of a file as [1, 3, h, w] RGB 0..255, channels in RGB order: a
     * 60×40 image, red but for blue strips 5 px wide at its left and right, crops (0.875 of the short side: 35×35
     * around the centre) to red alone.
     */
    @Test
    void evalTransformReadsTheCentreCropAsRgbNchw() throws IOException {
        BufferedImage img = new BufferedImage(60, 40, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 40; y++) {
            for (int x = 0; x < 60; x++) {
                img.setRGB(x, y, x < 5 || x >= 55 ? 0x0000FF : 0xFF0000);
            }
        }
        Path file = tmp.resolve("centre.png");
        ImageIO.write(img, "png", file.toFile());
        org.nd4j.linalg.api.ndarray.INDArray x = new EvalTransform(8, 8, 0.875).read(file);
        assertArrayEquals(new long[] {1, 3, 8, 8}, x.shape());
        assertEquals(255.0, x.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                org.nd4j.linalg.indexing.NDArrayIndex.point(0)).minNumber().doubleValue(), 1.0, "red everywhere");
        assertEquals(0.0, x.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                org.nd4j.linalg.indexing.NDArrayIndex.point(2)).maxNumber().doubleValue(), 1.0, "no blue edge");
        assertThrows(IOException.class, () -> new EvalTransform(8, 8, 0.875).read(tmp.resolve("missing.png")));
    }

    @Test
    void imageNetLayoutAndSplitLayout() throws IOException {
        DataSplits s = DataSplits.open(tree, 0.5, 1);
        assertEquals(List.of("blue-bar", "green-square", "red-disk"), s.classes(), "sorted folder names");
        assertEquals(15, s.train().size());
        assertEquals(6, s.validation().size(), "val/ wins over the split fraction");
        DataSplits split = DataSplits.open(tree.resolve("train"), 0.2, 1);
        assertEquals(12, split.train().size());
        assertEquals(3, split.validation().size(), "one of five per class");
        assertEquals(split, DataSplits.open(tree.resolve("train"), 0.2, 1), "the split is repeatable");
        assertNull(DataSplits.open(tree.resolve("train"), 0, 1).validation());
    }

    @Test
    void layoutErrorsNameWhatIsWrong() throws IOException {
        IOException missing = assertThrows(IOException.class, () -> DataSplits.open(tmp.resolve("nope"), 0, 1));
        assertTrue(missing.getMessage().contains("nope") && missing.getMessage().contains("no such folder"));
        Path one = tmp.resolve("one-class");
        TestImages.writeFolder(one, 2, 1);
        deleteTree(one.resolve("green-square"));
        deleteTree(one.resolve("blue-bar"));
        IOException single = assertThrows(IOException.class, () -> DataSplits.open(one, 0, 1));
        assertTrue(single.getMessage().contains("one class (red-disk)"), single.getMessage());
        Path empty = tmp.resolve("no-images");
        Files.createDirectories(empty.resolve("a"));
        Files.createDirectories(empty.resolve("b"));
        Files.writeString(empty.resolve("a/readme.txt"), "not an image");
        IOException none = assertThrows(IOException.class, () -> DataSplits.open(empty, 0, 1));
        assertTrue(none.getMessage().contains("no images"), none.getMessage());

        Path mismatch = tmp.resolve("mismatch");
        TestImages.writeTree(mismatch, 2, 1, 4);
        Files.move(mismatch.resolve("val/blue-bar"), mismatch.resolve("val/purple-star"));
        IOException classes = assertThrows(IOException.class, () -> DataSplits.open(mismatch, 0, 1));
        assertTrue(classes.getMessage().contains("unknown: [purple-star]"), classes.getMessage());
        assertTrue(classes.getMessage().contains("missing: [blue-bar]"), classes.getMessage());
    }

    @Test
    void batchesCarrySmoothedLabelsInRgbOrder() throws IOException {
        Path colours = tmp.resolve("colours");
        writeSolid(colours.resolve("blue/0.png"), Color.BLUE);
        writeSolid(colours.resolve("red/0.png"), Color.RED);
        ImageFolder f = ImageFolder.scan(colours);
        try (ImageBatches b = new ImageBatches(f, SampleTransform.of(EvalTransform.of(32)), 32, 32, 4, false, 0, 1, 1,
                0.1, new SkippedImages(s -> { }))) {
            DataSet ds = b.next();
            assertFalse(b.hasNext());
            assertArrayEquals(new long[] {2, 3, 32, 32}, ds.getFeatures().shape());
            // blue (label 0): channel 2 is 255, channel 0 is 0; red (label 1): the reverse
            assertEquals(255, ds.getFeatures().getDouble(0, 2, 5, 5), 0);
            assertEquals(0, ds.getFeatures().getDouble(0, 0, 5, 5), 0);
            assertEquals(255, ds.getFeatures().getDouble(1, 0, 5, 5), 0);
            assertEquals(0.95, ds.getLabels().getDouble(0, 0), 1e-6, "(1 - 0.1) + 0.1/2");
            assertEquals(0.05, ds.getLabels().getDouble(0, 1), 1e-6);
            assertEquals(0.95, ds.getLabels().getDouble(1, 1), 1e-6);
        }
    }

    @Test
    void batchesDependOnSeedEpochAndIndexNotOnThreads() throws IOException {
        ImageFolder f = ImageFolder.scan(tree.resolve("train"));
        SampleTransform aug = (img, rng) -> io.efficientnet.train.data.augment.TrainTransform.standard(32)
                .apply(img, rng);
        List<DataSet> one = epoch(f, aug, 1, 1, 0);
        List<DataSet> three = epoch(f, aug, 3, 1, 0);
        assertEquals(one.size(), three.size());
        for (int i = 0; i < one.size(); i++) {
            assertEquals(one.get(i).getFeatures(), three.get(i).getFeatures(), "batch " + i);
            assertEquals(one.get(i).getLabels(), three.get(i).getLabels(), "batch " + i);
        }
        List<DataSet> resumed = epoch(f, aug, 2, 1, 2);
        assertEquals(one.size() - 2, resumed.size());
        assertEquals(one.get(2).getFeatures(), resumed.get(0).getFeatures(), "resuming at batch 2 of the epoch");
        List<DataSet> nextEpoch = epoch(f, aug, 2, 2, 0);
        assertNotEquals(one.get(0).getLabels(), nextEpoch.get(0).getLabels(), "another epoch, another order");
    }

    @Test
    void grayscaleAndAlphaBecomeRgbAndBrokenFilesAreSkippedOnce() throws IOException {
        Path mixed = tmp.resolve("mixed");
        BufferedImage gray = new BufferedImage(20, 20, BufferedImage.TYPE_BYTE_GRAY);
        gray.getRaster().setSample(3, 3, 0, 200);
        Files.createDirectories(mixed.resolve("a"));
        Files.createDirectories(mixed.resolve("b"));
        ImageIO.write(gray, "png", mixed.resolve("a/gray.png").toFile());
        BufferedImage argb = new BufferedImage(20, 20, BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(1, 1, 0xff00ff00);
        ImageIO.write(argb, "png", mixed.resolve("b/alpha.png").toFile());
        Files.writeString(mixed.resolve("b/broken.jpg"), "this is not a jpeg");
        List<String> warnings = new ArrayList<>();
        SkippedImages skipped = new SkippedImages(warnings::add);
        ImageFolder f = ImageFolder.scan(mixed);
        for (int epoch = 0; epoch < 2; epoch++) {
            try (ImageBatches b = new ImageBatches(f, (img, rng) -> img, 20, 20, 8, false, 0, 2, 2, 0, skipped)) {
                DataSet ds = b.next();
                assertEquals(2, ds.numExamples(), "the broken file is left out of the batch");
                assertEquals(200, ds.getFeatures().getDouble(0, 0, 3, 3), 1.0, "gray copied to R");
                assertEquals(ds.getFeatures().getDouble(0, 0, 3, 3), ds.getFeatures().getDouble(0, 2, 3, 3), 0);
                assertEquals(255, ds.getFeatures().getDouble(1, 1, 1, 1), 0, "opaque green pixel");
            }
        }
        assertEquals(1, skipped.count());
        assertEquals(1, warnings.size(), "warned once: " + warnings);
        assertTrue(warnings.get(0).contains("broken.jpg"), warnings.get(0));
    }

    @Test
    void cmykJpegsAreConvertedToRgb() throws Exception {
        Path cmyk = Path.of(DataPipelineTest.class.getResource("/images/cmyk-red-blue.jpg").toURI());
        BufferedImage img = ImageDecoder.readRgb(cmyk);
        assertEquals(BufferedImage.TYPE_INT_RGB, img.getType());
        Color left = new Color(img.getRGB(3, 8));
        Color right = new Color(img.getRGB(20, 8));
        assertTrue(left.getRed() > 200 && left.getGreen() < 60 && left.getBlue() < 60, "red half: " + left);
        assertTrue(right.getBlue() > 150 && right.getRed() < 80, "blue half: " + right);
    }

    @Test
    void restartingAnEpochNeverMarksGoodFilesUnreadable() throws IOException {
        ImageFolder f = ImageFolder.scan(tree.resolve("train"));
        List<String> warnings = new ArrayList<>();
        SkippedImages skipped = new SkippedImages(warnings::add);
        try (ImageBatches b = new ImageBatches(f, SampleTransform.of(EvalTransform.of(32)), 32, 32, 2, true, 5, 2, 4,
                0, skipped)) {
            for (int i = 0; i < 20; i++) {
                assertTrue(b.hasNext()); // reads start
                b.startEpoch(i % 3, 0); // and are dropped again
            }
            int images = 0;
            while (b.hasNext()) {
                images += b.next().numExamples();
            }
            assertEquals(15, images);
        }
        assertEquals(0, skipped.count(), "no good file may be reported unreadable: " + warnings);
    }

    private static List<DataSet> epoch(ImageFolder f, SampleTransform t, int workers, int epoch, int skip) {
        List<DataSet> out = new ArrayList<>();
        try (ImageBatches b = new ImageBatches(f, t, 32, 32, 4, true, 99, workers, 3, 0.1, new SkippedImages(s -> { }))) {
            b.startEpoch(epoch, skip);
            while (b.hasNext()) {
                out.add(b.next());
            }
        }
        return out;
    }

    private static void writeSolid(Path file, Color c) throws IOException {
        Files.createDirectories(file.getParent());
        BufferedImage img = new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 30; y++) {
            for (int x = 0; x < 40; x++) {
                img.setRGB(x, y, c.getRGB());
            }
        }
        ImageIO.write(img, "png", file.toFile());
    }

    private static void deleteTree(Path p) throws IOException {
        try (var s = Files.walk(p)) {
            for (Path q : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
