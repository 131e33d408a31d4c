package io.efficientnet.core.weights;

import io.efficientnet.core.model.Architecture;
import io.efficientnet.core.model.GraphAssembler;
import io.efficientnet.core.model.Variant;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.preprocessor.NormalizerStandardize;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Loads Keras-named EfficientNet weights (a Keras weight file, or any {@link WeightTable} such as
 * {@link PyTorchWeights}) into a graph built by {@code EfficientNet}, matching layers by name and weights by role
 * (never by file order):
 * <ul>
 *   <li>conv {@code kernel [kH,kW,in,out]} → DL4J {@code W [out,in,kH,kW]}; {@code bias} → {@code b}</li>
 *   <li>depthwise {@code depthwise_kernel [kH,kW,in,1]} → {@code W} as is</li>
 *   <li>batch norm {@code gamma, beta, moving_mean} as is; {@code moving_variance} → {@code log10stdev =
 *   log10(√var)}</li>
 *   <li>dense {@code kernel [in,out]} → {@code W} as is; {@code bias} → {@code b}</li>
 *   <li>the {@code normalization} layer → the returned input normalizer (Keras applications store the ImageNet
 *   standard deviation in its {@code variance} slot)</li>
 * </ul>
 * Every layer of the graph must be found with matching shapes, and every weight of the file must be used; otherwise
 * nothing is returned, the network is left untouched and the error names the layer, both shapes and the variant the
 * file looks like.
 */
public final class KerasWeightImporter {

    private static final Pattern BLOCK = Pattern.compile("^(block\\d+[a-z]+)_");

    private KerasWeightImporter() {
    }

    /** What was imported. */
    public record Result(int layersLoaded, long valuesLoaded, NormalizerStandardize normalizer) {
    }

    /**
     * Loads {@code file} into {@code net}.
     *
     * @param expectedVariant a label for messages, e.g. {@code b0}
     * @throws IOException if the file cannot be read or does not fit the graph (the message says why)
     */
    public static Result load(ComputationGraph net, Path file, String expectedVariant) throws IOException {
        try (KerasWeightFile weights = KerasWeightFile.open(file)) {
            return load(net, weights, expectedVariant);
        }
    }

    /** Loads an already opened weight file (or another table in Keras' naming and layout) into {@code net}. */
    public static Result load(ComputationGraph net, WeightTable file, String expectedVariant) throws IOException {
        boolean netTop = net.getConfiguration().getVertices().containsKey("predictions");
        boolean fileTop = file.hasLayer("predictions");
        if (netTop && !fileTop) {
            throw new IOException(file.path() + " is a no-top weight file (no 'predictions' layer) but the model "
                    + "has a classifier: build it without top (includeTop(false) / --no-top), or use the file with top");
        }
        if (!netTop && fileTop) {
            throw new IOException(file.path() + " has a classifier ('predictions') but the model was built without "
                    + "top: build it with top, or use the _notop weight file");
        }
        // our layer name -> the Keras layer that holds its weights (a fused batch norm + swish is named like the
        // activation but carries the batch norm's weights)
        Map<String, String> netLayers = new LinkedHashMap<>();
        for (Layer layer : net.getLayers()) {
            if (layer.numParams() > 0) {
                netLayers.put(layer.conf().getLayer().getLayerName(),
                        GraphAssembler.kerasWeightName(layer.conf().getLayer()));
            }
        }
        Set<String> unused = new TreeSet<>();
        for (String name : file.layerNames()) {
            if (!netLayers.containsValue(name) && !file.weights(name).isEmpty() && !name.equals("normalization")) {
                unused.add(name + file.origin(name));
            }
        }
        if (!unused.isEmpty()) {
            throw new IOException(file.path() + " has weights for layers the " + expectedVariant + " model lacks ("
                    + firstFew(unused) + ")" + variantHint(file, expectedVariant));
        }

        // Stage every array first so that a mismatch leaves the network untouched.
        java.util.List<Staged> staged = new java.util.ArrayList<>();
        long values = 0;
        for (Map.Entry<String, String> e : netLayers.entrySet()) {
            String name = e.getValue();
            if (!file.hasLayer(name)) {
                throw new IOException("layer '" + name + "' is missing from " + file.path()
                        + (name.equals(e.getKey()) ? "" : " (its weights go into the fused layer '" + e.getKey() + "')")
                        + variantHint(file, expectedVariant));
            }
            Layer layer = net.getLayer(e.getKey());
            Roles w = new Roles(file, name, file.weights(name));
            String v = expectedVariant;
            org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
            if (conf instanceof DepthwiseConvolution2D) {
                staged.add(stage(layer, "W", w.take("depthwise_kernel"), false, file, v));
            } else if (conf instanceof ConvolutionLayer) {
                staged.add(stage(layer, "W", w.take("kernel"), true, file, v));
                if (layer.paramTable().containsKey("b")) {
                    staged.add(stage(layer, "b", w.take("bias"), false, file, v));
                }
            } else if (conf instanceof BatchNormalization) {
                staged.add(stage(layer, "gamma", w.take("gamma"), false, file, v));
                staged.add(stage(layer, "beta", w.take("beta"), false, file, v));
                staged.add(stage(layer, "mean", w.take("moving_mean"), false, file, v));
                WeightTable.Weight var = w.take("moving_variance");
                if (layer.paramTable().containsKey("log10stdev")) {
                    Staged s = stage(layer, "log10stdev", var, false, file, v);
                    staged.add(new Staged(s.layer(), s.key(),
                            Transforms.log(Transforms.sqrt(s.value(), false), 10.0, false)));
                } else {
                    staged.add(stage(layer, "var", var, false, file, v));
                }
            } else if (conf instanceof FeedForwardLayer) {
                staged.add(stage(layer, "W", w.take("kernel"), false, file, v));
                staged.add(stage(layer, "b", w.take("bias"), false, file, v));
            } else {
                throw new IOException("don't know how to load weights into layer '" + name + "' ("
                        + conf.getClass().getSimpleName() + ")");
            }
            w.requireAllTaken(v);
        }
        for (Staged s : staged) {
            INDArray target = s.layer().getParam(s.key());
            target.assign(s.value().reshape(target.shape()));
            values += target.length();
        }
        return new Result(netLayers.size(), values, normalizer(file));
    }

    /** One layer's weights by role, remembering which were taken so that none is silently left out. */
    private static final class Roles {
        private final WeightTable file;
        private final String layer;
        private final Map<String, WeightTable.Weight> weights;
        private final Set<String> taken = new java.util.HashSet<>();

        Roles(WeightTable file, String layer, Map<String, WeightTable.Weight> weights) {
            this.file = file;
            this.layer = layer;
            this.weights = weights;
        }

        WeightTable.Weight take(String role) throws IOException {
            WeightTable.Weight weight = weights.get(role);
            if (weight == null) {
                throw new IOException("layer '" + layer + "'" + file.origin(layer) + " in " + file.path() + " has no '"
                        + role + "' weight (has " + weights.keySet() + ")");
            }
            taken.add(role);
            return weight;
        }

        void requireAllTaken(String expectedVariant) throws IOException {
            if (!taken.containsAll(weights.keySet())) {
                Set<String> extra = new TreeSet<>(weights.keySet());
                extra.removeAll(taken);
                throw new IOException("layer '" + layer + "'" + file.origin(layer) + " in " + file.path()
                        + " has weights the " + expectedVariant + " model's layer does not have: " + extra);
            }
        }
    }

    /** A value checked and converted to DL4J layout, waiting to be assigned to {@code layer.getParam(key)}. */
    private record Staged(Layer layer, String key, INDArray value) {
    }

    /** Checks the shape and converts the file's array to DL4J layout. */
    private static Staged stage(Layer layer, String key, WeightTable.Weight w, boolean convKernel,
            WeightTable file, String expectedVariant) throws IOException {
        INDArray target = layer.getParam(key);
        String name = layer.conf().getLayer().getLayerName();
        INDArray source = Nd4j.createFromArray(w.data()).castTo(target.dataType());
        long[] fileShape = w.shape().length == 0 ? new long[] {w.data().length} : w.shape();
        long[] expectedKeras = convKernel
                ? new long[] {target.size(2), target.size(3), target.size(1), target.size(0)}
                : target.shape();
        // Vectors (biases, batch-norm) may differ in rank ([C] vs DL4J's [1, C]); everything else must match exactly.
        boolean ok = convKernel ? Arrays.equals(fileShape, expectedKeras)
                : source.length() == target.length()
                        && (fileShape.length == 1 || Arrays.equals(fileShape, target.shape()));
        if (!ok) {
            if (name.equals("predictions")) {
                throw new IOException("the classifier in " + file.path() + " has " + fileShape[fileShape.length - 1]
                        + " classes (kernel " + Arrays.toString(fileShape) + ") but the model has "
                        + target.size(target.rank() - 1) + ": build the model with numClasses("
                        + fileShape[fileShape.length - 1] + ")");
            }
            String origin = file.origin(GraphAssembler.kerasWeightName(layer.conf().getLayer()));
            throw new IOException("shape mismatch for '" + name + "/" + w.role() + "'" + origin + " in " + file.path()
                    + ": file has " + Arrays.toString(fileShape) + ", the " + expectedVariant + " model expects "
                    + Arrays.toString(expectedKeras) + variantHint(file, expectedVariant));
        }
        INDArray value = convKernel ? source.reshape(fileShape).permute(3, 2, 0, 1).dup('c') : source;
        return new Staged(layer, key, value);
    }

    private static String firstFew(Set<String> names) {
        return names.size() <= 5 ? String.join(", ", names)
                : String.join(", ", names.stream().limit(5).toList()) + ", … " + names.size() + " in all";
    }

    /** ": this looks like B1 weights, not B0" when the file's stem width and block count identify a variant. */
    static String variantHint(WeightTable file, String expectedVariant) {
        Variant guess = guessVariant(file);
        if (guess == null) {
            return "";
        }
        if (guess.id().equalsIgnoreCase(expectedVariant)) {
            return "";
        }
        return ": this looks like " + guess.name() + " weights, not " + expectedVariant.toUpperCase();
    }

    /** The published variant whose stem width, head width and block count match the file, or null. */
    public static Variant guessVariant(WeightTable file) {
        Set<String> blocks = new LinkedHashSet<>();
        for (String name : file.layerNames()) {
            Matcher m = BLOCK.matcher(name);
            if (m.find()) {
                blocks.add(m.group(1));
            }
        }
        long stem;
        long top;
        try {
            if (!file.hasLayer("stem_conv") || !file.hasLayer("top_conv")) {
                return null;
            }
            long[] shape = file.weights("stem_conv").get("kernel").shape();
            stem = shape[shape.length - 1];
            shape = file.weights("top_conv").get("kernel").shape();
            top = shape[shape.length - 1];
        } catch (IOException | RuntimeException e) {
            return null;
        }
        for (Variant v : Variant.values()) {
            Architecture a = Architecture.of(v.scaling(), 224, 224, 3, 0);
            if (a.blockCount() == blocks.size() && a.stemFilters() == stem && a.topFilters() == top) {
                return v;
            }
        }
        return null;
    }

    /** The file's input normalization, or the standard ImageNet one if the file has none. */
    static NormalizerStandardize normalizer(WeightTable file) throws IOException {
        if (!file.hasLayer("normalization")) {
            return ImageNetPreprocessing.normalizer();
        }
        Map<String, WeightTable.Weight> w = file.weights("normalization");
        WeightTable.Weight mean = w.get("mean");
        WeightTable.Weight variance = w.get("variance");
        if (mean == null || variance == null) {
            return ImageNetPreprocessing.normalizer();
        }
        // Keras applications store the ImageNet standard deviation in the 'variance' slot.
        return ImageNetPreprocessing.normalizer(mean.data(), variance.data());
    }
}
