package io.efficientnet.core.weights;

import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a Keras weight file ({@code save_weights} HDF5 layout, as Keras applications ship them): a root attribute
 * {@code layer_names} (possibly split into {@code layer_names0, layer_names1, …}), one group per layer with a
 * {@code weight_names} attribute, and each weight at {@code <layer>/<weight name>}, e.g.
 * {@code stem_conv/stem_conv/kernel:0}. Files written by {@code model.save} (weights under {@code model_weights})
 * are accepted too.
 */
public final class KerasWeightFile implements WeightTable, AutoCloseable {

    private static final byte[] HDF5_SIGNATURE = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

    private final Path path;
    private final HdfFile file;
    private final Group root;
    private final List<String> layerNames;

    private KerasWeightFile(Path path, HdfFile file, Group root, List<String> layerNames) {
        this.path = path;
        this.file = file;
        this.root = root;
        this.layerNames = List.copyOf(layerNames);
    }

    /**
     * Opens and checks a weight file.
     *
     * @throws IOException naming the file if it is missing, not HDF5, truncated, or not in Keras' layout
     */
    public static KerasWeightFile open(Path path) throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new IOException("Keras weight file " + path + " does not exist or is not a file");
        }
        long size = Files.size(path);
        try (InputStream in = Files.newInputStream(path)) {
            byte[] head = in.readNBytes(HDF5_SIGNATURE.length);
            if (!Arrays.equals(head, HDF5_SIGNATURE)) {
                throw new IOException(path + " is not an HDF5 file (" + size
                        + " bytes, no HDF5 signature): expected a Keras .h5 weight file");
            }
        }
        HdfFile hdf;
        try {
            hdf = new HdfFile(path);
        } catch (RuntimeException e) {
            throw new IOException(path + " is a damaged or truncated HDF5 file (" + size + " bytes): " + e.getMessage(),
                    e);
        }
        try {
            Group root = hdf;
            if (attribute(root, "layer_names") == null && root.getChildren().get("model_weights") instanceof Group g) {
                root = g;
            }
            List<String> names = readLayerNames(root);
            if (names == null) {
                throw new IOException(path + " is HDF5 but not a Keras weight file: the root has no 'layer_names' "
                        + "attribute");
            }
            return new KerasWeightFile(path, hdf, root, names);
        } catch (IOException e) {
            hdf.close();
            throw e;
        } catch (RuntimeException e) {
            hdf.close();
            throw new IOException(path + " is a damaged or truncated HDF5 file: " + e.getMessage(), e);
        }
    }

    private static Attribute attribute(Node node, String name) {
        return node.getAttributes().get(name);
    }

    private static List<String> readLayerNames(Group root) {
        Attribute whole = attribute(root, "layer_names");
        if (whole != null) {
            return Arrays.asList(strings(whole.getData()));
        }
        List<String> parts = new ArrayList<>();
        for (int i = 0; attribute(root, "layer_names" + i) != null; i++) {
            parts.addAll(Arrays.asList(strings(attribute(root, "layer_names" + i).getData())));
        }
        return parts.isEmpty() ? null : parts;
    }

    private static String[] strings(Object data) {
        if (data == null) {
            return new String[0];
        }
        if (data instanceof String[] s) {
            return s;
        }
        if (data instanceof String s) {
            return new String[] {s};
        }
        throw new IllegalStateException("expected a string array attribute, got " + data.getClass().getSimpleName());
    }

    /** The file this was read from. */
    @Override
    public Path path() {
        return path;
    }

    /** All layer names in file order, weightless layers included. */
    @Override
    public List<String> layerNames() {
        return layerNames;
    }

    /** Whether the file has a layer of that name. */
    @Override
    public boolean hasLayer(String layer) {
        return layerNames.contains(layer);
    }

    /**
     * The weights of one layer keyed by role ({@code kernel}, {@code bias}, {@code depthwise_kernel}, {@code gamma},
     * {@code beta}, {@code moving_mean}, {@code moving_variance}, {@code mean}, {@code variance}, …), in file order.
     *
     * @throws IOException if the layer is absent or a weight cannot be read
     */
    @Override
    public Map<String, Weight> weights(String layer) throws IOException {
        try {
            return readWeights(layer);
        } catch (RuntimeException e) {
            throw new IOException("cannot read layer '" + layer + "' from " + path
                    + ": the HDF5 file is damaged or truncated (" + e.getMessage() + ")", e);
        }
    }

    private Map<String, Weight> readWeights(String layer) throws IOException {
        if (!hasLayer(layer) || !(root.getChildren().get(layer) instanceof Group group)) {
            throw new IOException("layer '" + layer + "' is missing from " + path);
        }
        Map<String, Weight> out = new LinkedHashMap<>();
        Attribute names = attribute(group, "weight_names");
        if (names == null) {
            return out;
        }
        for (String weightName : strings(names.getData())) {
            Node node;
            try {
                node = group.getByPath(weightName);
            } catch (RuntimeException e) {
                throw new IOException("weight '" + weightName + "' of layer '" + layer + "' is missing from " + path, e);
            }
            if (!(node instanceof Dataset ds)) {
                throw new IOException("'" + layer + "/" + weightName + "' in " + path + " is not a dataset");
            }
            String role = weightName.substring(weightName.lastIndexOf('/') + 1).replaceFirst(":\\d+$", "");
            long[] shape = Arrays.stream(ds.getDimensions()).asLongStream().toArray();
            requirePlausibleSize(shape, layer + "/" + weightName, path);
            out.put(role, new Weight(role, shape, floats(ds)));
        }
        return out;
    }

    /** Largest weight tensor read (B7's largest has 1.6 million values): a larger claim is refused unallocated. */
    static final long MAX_VALUES = 1L << 28;

    static void requirePlausibleSize(long[] shape, String name, Path path) throws IOException {
        long n = 1;
        for (long d : shape) {
            if (d < 0 || d > MAX_VALUES || (n = n * Math.max(d, 1)) > MAX_VALUES) {
                throw new IOException("'" + name + "' in " + path + " claims shape " + Arrays.toString(shape)
                        + ", more than the " + MAX_VALUES + " values any EfficientNet weight has; not read");
            }
        }
    }

    private static float[] floats(Dataset ds) {
        Object flat = ds.isScalar() ? ds.getData() : ds.getDataFlat();
        if (flat instanceof float[] f) {
            return f;
        }
        if (flat instanceof double[] d) {
            float[] f = new float[d.length];
            for (int i = 0; i < d.length; i++) {
                f[i] = (float) d[i];
            }
            return f;
        }
        if (flat instanceof long[] l) {
            float[] f = new float[l.length];
            for (int i = 0; i < l.length; i++) {
                f[i] = l[i];
            }
            return f;
        }
        if (flat instanceof Number n) {
            return new float[] {n.floatValue()};
        }
        throw new IllegalStateException("unsupported weight data type " + ds.getJavaType() + " in " + ds.getPath());
    }

    @Override
    public void close() {
        file.close();
    }
}
