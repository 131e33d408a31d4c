package io.efficientnet.train.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Images in class folders ({@code ROOT/<class>/*.jpg}), the ImageNet / ImageFolder convention. Classes are the
 * sub-folder names in sorted order; files are sorted so that runs are repeatable. Files are recognised by extension
 * (JPEG, PNG, BMP, GIF, WBMP, TIFF, any case); hidden files and other files are ignored.
 *
 * @param root    the folder that holds the class folders
 * @param classes class names; the label of an image is its index here
 * @param images  the images in path order
 */
public record ImageFolder(Path root, List<String> classes, List<LabeledImage> images) {

    /** Extensions read as images. */
    public static final Set<String> EXTENSIONS = Set.of("jpg", "jpeg", "png", "bmp", "gif", "wbmp", "tif", "tiff");

    public ImageFolder {
        classes = List.copyOf(classes);
        images = List.copyOf(images);
    }

    /** Scans {@code root}, taking its class folders as the classes. */
    public static ImageFolder scan(Path root) throws IOException {
        return scan(root, classFolders(root));
    }

    /**
     * Scans {@code root} against a known class list (a validation or test folder): a class folder that is not in
     * {@code classes}, or a class of {@code classes} that has no folder, is an error naming them.
     */
    public static ImageFolder scan(Path root, List<String> classes) throws IOException {
        List<String> found = classFolders(root);
        Set<String> unknown = new TreeSet<>(found);
        unknown.removeAll(classes);
        Set<String> missing = new TreeSet<>(classes);
        missing.removeAll(found);
        if (!unknown.isEmpty() || !missing.isEmpty()) {
            throw new IOException(root + ": class folders do not match the " + classes.size() + " training classes"
                    + (unknown.isEmpty() ? "" : "; unknown: " + unknown)
                    + (missing.isEmpty() ? "" : "; missing: " + missing));
        }
        List<LabeledImage> images = new ArrayList<>();
        List<String> empty = new ArrayList<>();
        for (int label = 0; label < classes.size(); label++) {
            List<Path> files = imageFiles(root.resolve(classes.get(label)));
            if (files.isEmpty()) {
                empty.add(classes.get(label));
            }
            for (Path f : files) {
                images.add(new LabeledImage(f, label));
            }
        }
        if (images.isEmpty()) {
            throw new IOException(root + ": no images (" + String.join(", ", EXTENSIONS) + ") in any class folder");
        }
        if (!empty.isEmpty()) {
            throw new IOException(root + ": class folders without images: " + empty);
        }
        return new ImageFolder(root, classes, images);
    }

    /**
     * Splits off {@code fraction} of each class (at least one image when the class has two or more), chosen with
     * {@code seed}. Returns {@code [rest, heldOut]}.
     */
    public List<ImageFolder> split(double fraction, long seed) {
        if (!(fraction > 0 && fraction < 1)) {
            throw new IllegalArgumentException("validation split must be in (0, 1), got " + fraction);
        }
        List<LabeledImage> rest = new ArrayList<>();
        List<LabeledImage> held = new ArrayList<>();
        for (int label = 0; label < classes.size(); label++) {
            List<LabeledImage> ofClass = new ArrayList<>();
            for (LabeledImage li : images) {
                if (li.label() == label) {
                    ofClass.add(li);
                }
            }
            Collections.shuffle(ofClass, new Random(seed * 31 + label));
            int n = ofClass.size() < 2 ? 0 : Math.max(1, (int) Math.round(ofClass.size() * fraction));
            held.addAll(ofClass.subList(0, n));
            rest.addAll(ofClass.subList(n, ofClass.size()));
        }
        java.util.Comparator<LabeledImage> byPath = java.util.Comparator.comparing(LabeledImage::file);
        rest.sort(byPath);
        held.sort(byPath);
        return List.of(new ImageFolder(root, classes, rest), new ImageFolder(root, classes, held));
    }

    /** Number of images. */
    public int size() {
        return images.size();
    }

    private static List<String> classFolders(Path root) throws IOException {
        if (!Files.isDirectory(root)) {
            throw new IOException(root + ": no such folder");
        }
        List<String> names = new ArrayList<>();
        try (Stream<Path> s = Files.list(root)) {
            s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).filter(n -> !n.startsWith("."))
                    .sorted().forEach(names::add);
        }
        if (names.isEmpty()) {
            throw new IOException(root + ": no class folders (expected " + root + "/<class>/<image files>)");
        }
        return names;
    }

    private static List<Path> imageFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).filter(ImageFolder::isImageName).sorted().toList();
        }
    }

    private static boolean isImageName(Path p) {
        String name = p.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return !name.startsWith(".") && dot > 0
                && EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }
}
