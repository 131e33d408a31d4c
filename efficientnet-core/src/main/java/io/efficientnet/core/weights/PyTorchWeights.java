package io.efficientnet.core.weights;

import io.efficientnet.core.model.Padding;
import io.efficientnet.core.model.Variant;
import io.efficientnet.core.weights.PyTorchNames.Slot;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * PyTorch EfficientNet-B weights (torchvision's or timm's) as a {@link WeightTable} in Keras' naming and layout, so
 * that {@link KerasWeightImporter} loads them like a Keras file. Reads {@code torch.save} zips ({@code .pth},
 * through a restricted unpickler that runs nothing) and {@code .safetensors} files.
 *
 * <pre>{@code
 * PyTorchWeights w = PyTorchWeights.load(Path.of("efficientnet_b0.pth"));   // the family is detected
 * ComputationGraph net = EfficientNet.builder().variant(Variant.B0).matching(w).build().init();
 * w.importInto(net, "b0");
 * }</pre>
 */
public final class PyTorchWeights implements WeightTable {

    private final Path path;
    private final PyTorchFamily family;
    private final boolean detected;
    private final Map<String, Map<String, Weight>> layers;
    private final Map<String, String> modules;
    private final Variant variant;

    private PyTorchWeights(Path path, PyTorchFamily family, boolean detected, Map<String, Map<String, Weight>> layers,
            Map<String, String> modules) {
        this.path = path;
        this.family = family;
        this.detected = detected;
        this.layers = layers;
        this.modules = modules;
        this.variant = KerasWeightImporter.guessVariant(this);
    }

    /** Reads {@code file} and detects the family from its tensor names (timm names are taken as plain timm). */
    public static PyTorchWeights load(Path file) throws IOException {
        return load(file, null);
    }

    /**
     * Reads {@code file} as weights of {@code family} (null: detected from the tensor names).
     *
     * @throws IOException naming the file and the problem: unreadable, a refused pickle global, names of another
     *                     family, or tensors that are not part of an EfficientNet-B
     */
    public static PyTorchWeights load(Path file, PyTorchFamily family) throws IOException {
        Map<String, TorchTensor> tensors = readTensors(file);
        if (!tensors.isEmpty() && tensors.keySet().stream().allMatch(n -> n.startsWith("module."))) {
            Map<String, TorchTensor> stripped = new LinkedHashMap<>(); // saved from a DataParallel wrapper
            for (TorchTensor t : tensors.values()) {
                String name = t.name().substring("module.".length());
                stripped.put(name, new TorchTensor(name, t.shape(), t.data()));
            }
            tensors = stripped;
        }
        Boolean timm = PyTorchNames.timmNames(tensors.keySet());
        if (timm == null) {
            throw new IOException(file + " does not have torchvision's (features.0.0.weight) nor timm's "
                    + "(conv_stem.weight) EfficientNet tensor names; it has " + firstFew(tensors.keySet()));
        }
        PyTorchFamily chosen = family != null ? family : timm ? PyTorchFamily.TIMM : PyTorchFamily.TORCHVISION;
        if (chosen.timmNames() != timm) {
            throw new IOException(file + " has " + (timm ? "timm" : "torchvision") + " tensor names, not "
                    + chosen.id() + "'s: choose the " + (timm ? "timm or timm-tf" : "torchvision") + " family");
        }
        PyTorchNames names = new PyTorchNames(timm, tensors.keySet());
        Map<String, Map<String, Weight>> layers = new LinkedHashMap<>();
        Map<String, String> modules = new LinkedHashMap<>();
        Set<String> unknown = new TreeSet<>();
        for (TorchTensor t : tensors.values()) {
            Slot slot = names.slot(t.name());
            if (slot == null) {
                unknown.add(t.name());
                continue;
            }
            if (slot == PyTorchNames.IGNORED) {
                continue;
            }
            Map<String, Weight> roles = layers.computeIfAbsent(slot.layer(), k -> new LinkedHashMap<>());
            if (roles.containsKey(slot.role())) {
                throw new IOException(file + ": tensor '" + t.name() + "' and another both map to '" + slot.layer()
                        + "/" + slot.role() + "'");
            }
            roles.put(slot.role(), toKeras(t, slot, file));
            modules.putIfAbsent(slot.layer(), PyTorchNames.module(t.name()));
        }
        if (!unknown.isEmpty()) {
            throw new IOException(file + " has tensors that are not part of a " + chosen.id() + " EfficientNet-B: "
                    + firstFew(unknown));
        }
        return new PyTorchWeights(file, chosen, family == null, layers, modules);
    }

    /**
     * Every tensor of a {@code .pth} ({@code torch.save} zip) or {@code .safetensors} file, told apart by content.
     *
     * @throws IOException naming the file if it is neither, or is damaged
     */
    public static Map<String, TorchTensor> readTensors(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException("PyTorch weight file " + file + " does not exist or is not a file");
        }
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(4);
        }
        if (head.length == 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
            return TorchZipFile.read(file);
        }
        if (SafetensorsFile.looksLikeSafetensors(file) || file.toString().endsWith(".safetensors")) {
            return SafetensorsFile.read(file);
        }
        if (head.length >= 2 && (head[0] & 0xff) == 0x80) {
            throw new IOException(file + " is a pickle in PyTorch's legacy format (before 1.6), which is not read: "
                    + "re-save it with torch.save from PyTorch 1.6 or later, or as .safetensors");
        }
        throw new IOException(file + " is neither a torch.save zip (.pth) nor a .safetensors file");
    }

    /** The family the tensors are read as. */
    public PyTorchFamily family() {
        return family;
    }

    /** The published variant whose widths and depth the file has, or null. */
    public Variant variant() {
        return variant;
    }

    /** The batch-norm ε the network needs: the family's, for the file's variant. */
    public double batchNormEpsilon() {
        return family.batchNormEpsilon(variant);
    }

    /** One line for the user: which family, how it was chosen, and the settings it implies. */
    public String description() {
        String text = family.id() + " EfficientNet" + (variant == null ? "" : "-" + variant.name()) + " weights ("
                + family.settings(variant) + ")";
        if (family == PyTorchFamily.TIMM && detected) {
            text += "; timm's tf_efficientnet_bN files have the same names but need TF-SAME padding and eps 1e-3: "
                    + "choose the timm-tf family for those";
        }
        return (detected ? "detected " : "") + text;
    }

    /** Whether the file has a classifier. */
    public boolean hasTop() {
        return layers.containsKey("predictions");
    }

    /** The classifier's number of classes, or 0 without one. */
    public int numClasses() {
        Weight kernel = hasTop() ? layers.get("predictions").get("kernel") : null;
        return kernel == null ? 0 : (int) kernel.shape()[kernel.shape().length - 1];
    }

    /** The padding the family's networks use. */
    public io.efficientnet.core.model.Padding padding() {
        return family.padding();
    }

    /**
     * Loads the weights into {@code net}, which must have been built with the family's padding and ε
     * ({@code EfficientNet.Builder.matching}).
     *
     * @param expectedVariant a label for messages, e.g. {@code b0}
     */
    public KerasWeightImporter.Result importInto(ComputationGraph net, String expectedVariant) throws IOException {
        for (Layer layer : net.getLayers()) {
            org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
            if (conf instanceof BatchNormalization bn
                    && Math.abs(bn.getEps() - batchNormEpsilon()) > 1e-6 * batchNormEpsilon()) {
                throw settingsMismatch("batch-norm eps " + bn.getEps());
            }
            if (conf instanceof ConvolutionLayer c
                    && (c.getConvolutionMode() == ConvolutionMode.Same) != (family.padding() == Padding.SAME)) {
                throw settingsMismatch(c.getConvolutionMode() == ConvolutionMode.Same ? "TF-SAME padding"
                        : "symmetric padding");
            }
        }
        return KerasWeightImporter.load(net, this, expectedVariant);
    }

    private IOException settingsMismatch(String built) {
        return new IOException("the model was built with " + built + ", but " + family.id() + " weights (" + path
                + ") need " + family.settings(variant) + ": build it with EfficientNet.Builder.matching(weights)");
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public List<String> layerNames() {
        return new ArrayList<>(layers.keySet());
    }

    @Override
    public boolean hasLayer(String layer) {
        return layers.containsKey(layer);
    }

    @Override
    public Map<String, Weight> weights(String layer) throws IOException {
        Map<String, Weight> w = layers.get(layer);
        if (w == null) {
            throw new IOException("layer '" + layer + "' is missing from " + path);
        }
        return w;
    }

    @Override
    public String origin(String layer) {
        String module = modules.get(layer);
        return module == null ? "" : " (from " + module + ")";
    }

    /** The tensor in Keras' layout, as a {@link Weight} with the slot's role. */
    private static Weight toKeras(TorchTensor t, Slot slot, Path file) throws IOException {
        int[] perm = slot.layout().permutation;
        long[] shape = t.shape();
        int rank = perm.length == 0 ? 1 : perm.length;
        if (shape.length != rank) {
            throw new IOException("tensor '" + t.name() + "' (for layer '" + slot.layer() + "') in " + file
                    + " has shape " + Arrays.toString(shape) + "; expected " + rank + " dimensions");
        }
        if (perm.length == 0) {
            return new Weight(slot.role(), shape, t.data());
        }
        long[] out = new long[rank];
        for (int i = 0; i < rank; i++) {
            out[i] = shape[perm[i]];
        }
        return new Weight(slot.role(), out, permute(t.data(), shape, perm));
    }

    /** Row-major {@code data} of {@code shape} with its dimensions reordered: result dimension i is source perm[i]. */
    static float[] permute(float[] data, long[] shape, int[] perm) {
        int rank = shape.length;
        long[] sourceStride = new long[rank];
        long s = 1;
        for (int d = rank - 1; d >= 0; d--) {
            sourceStride[d] = s;
            s *= shape[d];
        }
        float[] out = new float[data.length];
        long[] index = new long[rank];
        long source = 0;
        for (int i = 0; i < out.length; i++) {
            out[i] = data[(int) source];
            for (int d = rank - 1; d >= 0; d--) {
                if (++index[d] < shape[perm[d]]) {
                    source += sourceStride[perm[d]];
                    break;
                }
                source -= (shape[perm[d]] - 1) * sourceStride[perm[d]];
                index[d] = 0;
            }
        }
        return out;
    }

    private static String firstFew(Set<String> names) {
        List<String> list = new ArrayList<>(names);
        return list.size() <= 5 ? String.join(", ", list)
                : String.join(", ", list.subList(0, 5)) + ", … " + list.size() + " in all";
    }
}
