package io.efficientnet.train;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/** Writes small ImageNet-style trees of drawn shapes for tests: one class per colour and shape. */
public final class TestImages {

    /** Class names of {@link #writeTree}. */
    public static final List<String> CLASSES = List.of("red-disk", "green-square", "blue-bar");

    private TestImages() {
    }

    /** Writes {@code ROOT/train/<class>/*.png} and {@code ROOT/val/<class>/*.png}. */
    public static void writeTree(Path root, int trainPerClass, int valPerClass, long seed) throws IOException {
        writeFolder(root.resolve("train"), trainPerClass, seed);
        writeFolder(root.resolve("val"), valPerClass, seed + 1);
    }

    /** Writes {@code DIR/<class>/*.png}. */
    public static void writeFolder(Path dir, int perClass, long seed) throws IOException {
        Random rng = new Random(seed);
        for (int c = 0; c < CLASSES.size(); c++) {
            Path cls = dir.resolve(CLASSES.get(c));
            Files.createDirectories(cls);
            for (int i = 0; i < perClass; i++) {
                ImageIO.write(draw(c, rng), "png", cls.resolve(String.format("%03d.png", i)).toFile());
            }
        }
    }

    /** A 40×40 image of class {@code c} with random placement, size and background noise. */
    public static BufferedImage draw(int c, Random rng) {
        BufferedImage img = new BufferedImage(40, 40, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 40; y++) {
            for (int x = 0; x < 40; x++) {
                int g = 90 + rng.nextInt(60);
                img.setRGB(x, y, new Color(g, g, g).getRGB());
            }
        }
        Graphics2D gr = img.createGraphics();
        int size = 14 + rng.nextInt(12);
        int x = rng.nextInt(40 - size);
        int y = rng.nextInt(40 - size);
        switch (c) {
            case 0 -> {
                gr.setColor(new Color(220, 30, 30));
                gr.fillOval(x, y, size, size);
            }
            case 1 -> {
                gr.setColor(new Color(30, 200, 40));
                gr.fillRect(x, y, size, size);
            }
            default -> {
                gr.setColor(new Color(30, 40, 220));
                gr.fillRect(x, y + size / 3, size, size / 3);
            }
        }
        gr.dispose();
        return img;
    }
}
