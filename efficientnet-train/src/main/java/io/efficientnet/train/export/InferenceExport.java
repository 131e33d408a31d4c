package io.efficientnet.train.export;

import io.efficientnet.core.inference.BatchNormFolding;
import io.efficientnet.core.weights.ModelZip;
import io.efficientnet.core.weights.ModelZipLoader;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.api.preprocessor.Normalizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Re-writes a model zip for deployment: no updater state and, optionally, batch norms folded into their
 * convolutions ({@link BatchNormFolding}). The normalizer and the description entries ({@value ModelZip#INPUT_SHAPE},
 * {@value ModelZip#EVAL_CROP}, {@value ModelZip#LABELS}) are carried over; the output is written atomically ({@link ModelZip#write}).
 *
 * <p>The normalizer stays the model's preprocessing: folding {@code (x − mean)/std} into the stem convolution would
 * be exact only without padding, and the stem pads with zeros after normalisation (TF "SAME" or symmetric), so the
 * border outputs would change.
 */
public final class InferenceExport {

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
     * @param copiedEntries  the model's description carried over ({@value ModelZip#INPUT_SHAPE},
     *                       {@value ModelZip#EVAL_CROP}, {@value ModelZip#LABELS})
     */
    public record Report(BatchNormFolding.Result folding, int layersBefore, int layersAfter, long paramsBefore,
                         long paramsAfter, boolean normalizer, List<String> copiedEntries) {
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

    /**
     * The description entries of {@code zip} that it has. They are the only entries besides DL4J's own that a model zip
     * can hold: {@link ModelZipLoader} refuses any other.
     */
    static Map<String, String> descriptionEntries(Path zip) throws IOException {
        Map<String, String> entries = new LinkedHashMap<>();
        for (String name : ModelZip.DESCRIPTION_ENTRIES) {
            String text = ModelZip.readEntry(zip, name);
            if (text != null) {
                entries.put(name, text);
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
        Map<String, String> extra = descriptionEntries(input);
        BatchNormFolding.Result folding = optimize ? BatchNormFolding.fold(net) : null;
        ComputationGraph out = folding != null ? folding.graph() : net;
        ModelZip.write(out, output, false, normalizer, extra);
        return new Report(folding, net.getLayers().length, out.getLayers().length, net.numParams(), out.numParams(),
                normalizer != null, List.copyOf(extra.keySet()));
    }
}
