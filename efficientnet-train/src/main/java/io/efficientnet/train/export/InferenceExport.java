package io.efficientnet.train.export;

import io.efficientnet.core.inference.BatchNormFolding;
import io.efficientnet.core.weights.ModelZip;
import io.efficientnet.core.weights.ModelZipLoader;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.dataset.api.preprocessor.Normalizer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Re-writes a model zip for deployment: no updater state and, optionally, batch norms folded into their
 * convolutions ({@link BatchNormFolding}). The normalizer and the text entries ({@value ModelZip#INPUT_SHAPE},
 * {@value ModelZip#LABELS}, …) are carried over; the output is written atomically ({@link ModelZip#write}).
 *
 * <p>The normalizer stays the model's preprocessing: folding {@code (x − mean)/std} into the stem convolution would
 * be exact only without padding, and the stem pads with zeros after normalisation (TF "SAME" or symmetric), so the
 * border outputs would change.
 */
public final class InferenceExport {

    /** Entries ModelSerializer writes itself (everything else in a model zip is carried over as text). */
    private static final Set<String> MODEL_ENTRIES = Set.of(ModelSerializer.CONFIGURATION_JSON,
            ModelSerializer.COEFFICIENTS_BIN, ModelSerializer.UPDATER_BIN, ModelSerializer.NORMALIZER_BIN,
            ModelSerializer.NO_PARAMS_MARKER, ModelSerializer.PREPROCESSOR_BIN);

    private InferenceExport() {
    }

    /**
     * What an export did.
     *
     * @param folding        the batch-norm folding, or null without optimisation
     * @param layersBefore   layers of the input model
     * @param layersAfter    layers of the written model
     * @param paramsBefore   parameters of the input model
     * @param paramsAfter    parameters of the written model
     * @param normalizer     whether a normalizer was carried over
     * @param copiedEntries  text entries carried over
     * @param skippedEntries entries that are not UTF-8 text and were not carried over
     */
    public record Report(BatchNormFolding.Result folding, int layersBefore, int layersAfter, long paramsBefore,
                         long paramsAfter, boolean normalizer, List<String> copiedEntries,
                         List<String> skippedEntries) {
    }

    /**
     * Restores a ComputationGraph zip without its updater.
     *
     * @throws IOException with a message naming the file if it is missing or not a DL4J ComputationGraph zip
     */
    public static ComputationGraph restore(Path zip) throws IOException {
        if (!Files.isRegularFile(zip)) {
            throw new IOException("model file " + zip + " does not exist");
        }
        return ModelZipLoader.graph(zip, false);
    }

    /** The zip's entries that ModelSerializer did not write, as text (binary ones are listed in {@code skipped}). */
    static Map<String, String> extraEntries(Path zip, List<String> skipped) throws IOException {
        Map<String, String> entries = new LinkedHashMap<>();
        try (ZipFile z = new ZipFile(zip.toFile())) {
            Enumeration<? extends ZipEntry> all = z.entries();
            while (all.hasMoreElements()) {
                ZipEntry e = all.nextElement();
                if (e.isDirectory() || MODEL_ENTRIES.contains(e.getName())) {
                    continue;
                }
                byte[] bytes;
                try (InputStream in = z.getInputStream(e)) {
                    bytes = in.readAllBytes();
                }
                try {
                    entries.put(e.getName(), StandardCharsets.UTF_8.newDecoder()
                            .onMalformedInput(CodingErrorAction.REPORT)
                            .onUnmappableCharacter(CodingErrorAction.REPORT)
                            .decode(ByteBuffer.wrap(bytes)).toString());
                } catch (CharacterCodingException notText) {
                    skipped.add(e.getName());
                }
            }
        }
        return entries;
    }

    /**
     * Exports {@code input} to {@code output}; with {@code optimize}, batch norms are folded into their
     * convolutions. Nothing is written if anything fails, and an existing {@code output} is replaced only by a
     * complete file.
     */
    public static Report export(Path input, Path output, boolean optimize) throws IOException {
        ComputationGraph net = restore(input);
        Normalizer<?> normalizer = ModelZipLoader.normalizer(input);
        List<String> skipped = new ArrayList<>();
        Map<String, String> extra = extraEntries(input, skipped);
        BatchNormFolding.Result folding = optimize ? BatchNormFolding.fold(net) : null;
        ComputationGraph out = folding != null ? folding.graph() : net;
        ModelZip.write(out, output, false, normalizer, extra);
        return new Report(folding, net.getLayers().length, out.getLayers().length, net.numParams(), out.numParams(),
                normalizer != null, List.copyOf(extra.keySet()), List.copyOf(skipped));
    }
}
