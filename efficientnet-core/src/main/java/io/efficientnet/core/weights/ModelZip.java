package io.efficientnet.core.weights;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.dataset.api.preprocessor.serializer.NormalizerSerializer;
import org.nd4j.linalg.dataset.api.preprocessor.Normalizer;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Writes {@link ModelSerializer} zips atomically: a temporary file in the target folder, then a rename. */
public final class ModelZip {

    /** Zip entry with the input shape {@code channels,height,width}. */
    public static final String INPUT_SHAPE = "input_shape.txt";
    /** Zip entry with the class names, one per line. */
    public static final String LABELS = "labels.txt";
    /** Entry with the centre-crop fraction of the network's evaluation preprocessing (one decimal number). */
    public static final String EVAL_CROP = "eval_crop.txt";
    /** The text entries {@link #describe} may write, besides DL4J's own. */
    public static final java.util.List<String> DESCRIPTION_ENTRIES = java.util.List.of(INPUT_SHAPE, EVAL_CROP, LABELS);

    private ModelZip() {
    }

    /**
     * Writes {@code model} (and {@code normalizer}, if not null) to {@code target}. An existing file at
     * {@code target} is replaced only once the new one is complete; an interrupted write leaves no partial zip.
     */
    public static void write(Model model, Path target, boolean saveUpdater, Normalizer<?> normalizer)
            throws IOException {
        write(model, target, saveUpdater, normalizer, java.util.Map.of());
    }

    /**
     * As {@link #write(Model, Path, boolean, Normalizer)}, adding text entries (e.g. {@value #INPUT_SHAPE},
     * {@value #LABELS}) to the zip before it is moved into place.
     */
    public static void write(Model model, Path target, boolean saveUpdater, Normalizer<?> normalizer,
            java.util.Map<String, String> textEntries) throws IOException {
        java.util.Map<String, byte[]> entries = new java.util.LinkedHashMap<>();
        textEntries.forEach((k, v) -> entries.put(k, v.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        writeWithEntries(model, target, saveUpdater, normalizer, entries);
    }

    /**
     * As {@link #write(Model, Path, boolean, Normalizer)}, adding entries with arbitrary content (e.g. a training
     * checkpoint's state) to the zip before it is moved into place.
     */
    public static void writeWithEntries(Model model, Path target, boolean saveUpdater, Normalizer<?> normalizer,
            java.util.Map<String, byte[]> entries) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Path network = null;
        Path complete = null;
        try {
            Files.createDirectories(dir);
            network = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
            ModelSerializer.writeModel(model, network.toFile(), saveUpdater);
            java.util.Map<String, byte[]> added = new java.util.LinkedHashMap<>();
            if (normalizer != null) {
                java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
                NormalizerSerializer.getDefault().write(normalizer, bytes);
                added.put(ModelSerializer.NORMALIZER_BIN, bytes.toByteArray());
            }
            added.putAll(entries);
            complete = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
            copyWith(network, complete, added);
            moveAtomically(complete, target);
        } catch (IOException | RuntimeException e) {
            IOException io = e instanceof IOException ioe ? ioe : ioCause(e);
            throw new IOException("cannot write " + target + ": " + (io != null ? IoErrors.reason(io)
                    : e.getClass().getSimpleName() + ": " + e.getMessage()) + "; any earlier " + target.getFileName()
                    + " is unchanged", e);
        } finally {
            // the temporary files go whatever happened (a full disk included)
            for (Path tmp : new Path[] {network, complete}) {
                if (tmp != null) {
                    Files.deleteIfExists(tmp);
                }
            }
        }
    }

    /** Copies the entries of zip {@code from} into a new zip {@code to}, then {@code added} (replacing same names). */
    private static void copyWith(Path from, Path to, java.util.Map<String, byte[]> added) throws IOException {
        try (java.util.zip.ZipInputStream in = new java.util.zip.ZipInputStream(Files.newInputStream(from));
             java.util.zip.ZipOutputStream out = new java.util.zip.ZipOutputStream(
                     new java.io.BufferedOutputStream(Files.newOutputStream(to)))) {
            for (java.util.zip.ZipEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
                if (!added.containsKey(e.getName())) {
                    out.putNextEntry(new java.util.zip.ZipEntry(e.getName()));
                    in.transferTo(out);
                    out.closeEntry();
                }
            }
            for (var e : added.entrySet()) {
                out.putNextEntry(new java.util.zip.ZipEntry(e.getKey()));
                out.write(e.getValue());
                out.closeEntry();
            }
        }
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(to,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.force(true); // on disk before the rename makes it the file
        }
    }

    private static IOException ioCause(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof IOException io) {
                return io;
            }
            if (c instanceof java.io.UncheckedIOException u) {
                return u.getCause();
            }
        }
        return null;
    }

    /** Renames {@code source} over {@code target} atomically where the file system allows. */
    public static void moveAtomically(Path source, Path target) throws IOException {
        try {
            Files.move(source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(source, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** A text entry of a model zip, or null if absent. */
    public static String readEntry(Path zip, String entry) throws IOException {
        byte[] bytes = readBytes(zip, entry);
        return bytes == null ? null : new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** An entry of a model zip as bytes, or null if absent. */
    public static byte[] readBytes(Path zip, String entry) throws IOException {
        try (java.util.zip.ZipFile z = new java.util.zip.ZipFile(zip.toFile())) {
            java.util.zip.ZipEntry e = z.getEntry(entry);
            if (e == null) {
                return null;
            }
            try (java.io.InputStream in = z.getInputStream(e)) {
                return in.readAllBytes();
            }
        }
    }

    /** The {@code [channels, height, width]} stored by {@link #describe}, or null if the zip has none. */
    public static int[] readInputShape(Path zip) throws IOException {
        String text = readEntry(zip, INPUT_SHAPE);
        if (text == null) {
            return null;
        }
        String[] parts = text.trim().split(",");
        try {
            return new int[] {Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()),
                    Integer.parseInt(parts[2].trim())};
        } catch (RuntimeException e) {
            throw new IOException(zip + ": entry " + INPUT_SHAPE + " should be 'channels,height,width', got '"
                    + text.trim() + "'", e);
        }
    }

    /** The evaluation crop fraction stored by {@link #describe}, or null if the zip has none. */
    public static Double readEvalCrop(Path zip) throws IOException {
        String text = readEntry(zip, EVAL_CROP);
        if (text == null) {
            return null;
        }
        try {
            double crop = Double.parseDouble(text.trim());
            if (crop > 0 && crop <= 1) {
                return crop;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IOException(zip + ": entry " + EVAL_CROP + " should be a fraction in (0, 1], got '" + text.trim()
                + "'");
    }

    /**
     * Text entries describing an EfficientNet: its input shape, the centre-crop fraction its evaluation uses and, if
     * given, class names.
     */
    public static java.util.Map<String, String> describe(int[] chw, double evalCrop, java.util.List<String> labels) {
        java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
        m.put(INPUT_SHAPE, chw[0] + "," + chw[1] + "," + chw[2]);
        m.put(EVAL_CROP, Double.toString(evalCrop));
        if (labels != null) {
            m.put(LABELS, String.join("\n", labels) + "\n");
        }
        return m;
    }
}
