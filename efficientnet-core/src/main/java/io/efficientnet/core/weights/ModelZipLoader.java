package io.efficientnet.core.weights;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.dataset.api.preprocessor.Normalizer;
import org.nd4j.linalg.dataset.api.preprocessor.serializer.NormalizerSerializer;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * The one way this project reads model zips (command line, saved models, the pretrained cache, checkpoints): no code
 * runs from a file. DL4J's {@code ModelSerializer} reads a {@code preprocessor.bin} entry, when a zip has one, with
 * plain Java deserialisation, and its normaliser reader instantiates a class named in the file for custom
 * normalisers; so a zip is refused, naming the entry, unless every entry is one this project writes, and a normaliser
 * is read only when its header names one of ND4J's built-in kinds.
 */
public final class ModelZipLoader {

    /** Entries of the model zips this project writes (DL4J's own and {@link ModelZip}'s). */
    private static final Set<String> MODEL_ENTRIES = Stream.concat(Stream.of(
            ModelSerializer.CONFIGURATION_JSON, ModelSerializer.COEFFICIENTS_BIN, ModelSerializer.UPDATER_BIN,
            ModelSerializer.NORMALIZER_BIN, ModelSerializer.NO_PARAMS_MARKER), ModelZip.DESCRIPTION_ENTRIES.stream())
            .collect(Collectors.toUnmodifiableSet());
    /** Normaliser kinds whose reader creates no class named by the file. */
    private static final Set<String> SAFE_NORMALIZERS = Set.of("STANDARDIZE", "MIN_MAX", "IMAGE_MIN_MAX",
            "IMAGE_VGG16", "MULTI_STANDARDIZE", "MULTI_MIN_MAX", "MULTI_HYBRID");

    private ModelZipLoader() {
    }

    /**
     * Restores the network of {@code zip}.
     *
     * @param withUpdater also restore the updater state (training checkpoints)
     * @param extra       entries beyond a model zip's that this kind of file may hold (e.g. a checkpoint's state)
     * @throws IOException naming the file: not a zip, not a DL4J model, or an entry this project does not write
     */
    public static ComputationGraph graph(Path zip, boolean withUpdater, Set<String> extra) throws IOException {
        checkEntries(zip, extra);
        try {
            return ModelSerializer.restoreComputationGraph(zip.toFile(), withUpdater);
        } catch (IOException | RuntimeException e) {
            throw new IOException("cannot restore a ComputationGraph from " + zip + ": " + e.getMessage(), e);
        }
    }

    /** {@link #graph(Path, boolean, Set)} for a model zip (no extra entries). */
    public static ComputationGraph graph(Path zip, boolean withUpdater) throws IOException {
        return graph(zip, withUpdater, Set.of());
    }

    /**
     * The zip's input normaliser, or null if it has none.
     *
     * @throws IOException naming the file when the normaliser is of a custom kind (its reader would create a class
     *                     the file names) or cannot be read
     */
    public static Normalizer<?> normalizer(Path zip) throws IOException {
        byte[] bytes = ModelZip.readBytes(zip, ModelSerializer.NORMALIZER_BIN);
        if (bytes == null) {
            return null;
        }
        String kind;
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            if (!"NORMALIZER".equals(in.readUTF())) {
                throw new IOException("no normaliser header");
            }
            in.readInt(); // format version
            kind = in.readUTF();
        } catch (IOException e) {
            throw new IOException(zip + ": entry " + ModelSerializer.NORMALIZER_BIN + " is not a normaliser ("
                    + e.getMessage() + ")", e);
        }
        if (!SAFE_NORMALIZERS.contains(kind)) {
            throw new IOException(zip + ": entry " + ModelSerializer.NORMALIZER_BIN + " holds a normaliser of kind "
                    + kind + "; only ND4J's built-in kinds are read " + SAFE_NORMALIZERS.stream().sorted().toList()
                    + " (a custom one would create a class the file names)");
        }
        try {
            return NormalizerSerializer.getDefault().restore(new ByteArrayInputStream(bytes));
        } catch (Exception e) {
            throw new IOException(zip + ": the normaliser in entry " + ModelSerializer.NORMALIZER_BIN
                    + " cannot be read (" + e.getMessage() + ")", e);
        }
    }

    private static void checkEntries(Path zip, Set<String> extra) throws IOException {
        if (!Files.isRegularFile(zip)) {
            throw new IOException(zip + ": no such model file");
        }
        List<String> names = new java.util.ArrayList<>();
        try (ZipFile z = new ZipFile(zip.toFile())) {
            for (Enumeration<? extends ZipEntry> e = z.entries(); e.hasMoreElements(); ) {
                names.add(e.nextElement().getName());
            }
        } catch (ZipException e) {
            throw new IOException(zip + " is not a model zip: " + e.getMessage(), e);
        }
        if (!names.contains(ModelSerializer.CONFIGURATION_JSON) || !names.contains(ModelSerializer.COEFFICIENTS_BIN)) {
            throw new IOException(zip + " is not a DL4J model zip (no " + ModelSerializer.CONFIGURATION_JSON
                    + " and " + ModelSerializer.COEFFICIENTS_BIN + ")");
        }
        for (String name : names) {
            if (!MODEL_ENTRIES.contains(name) && !extra.contains(name)) {
                throw new IOException(zip + ": entry '" + name + "' is not one this project writes and was not "
                        + "read" + (name.equals(ModelSerializer.PREPROCESSOR_BIN) ? " (DL4J would read it with Java "
                        + "deserialisation, which can run code from the file)" : "") + "; expected only "
                        + new java.util.TreeSet<>(union(extra)));
            }
        }
    }

    private static Set<String> union(Set<String> extra) {
        Set<String> all = new HashSet<>(MODEL_ENTRIES);
        all.addAll(extra);
        return all;
    }
}
