package io.efficientnet.train.run;

import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.model.Pooling;
import io.efficientnet.core.model.Variant;
import io.efficientnet.train.config.TrainConfig;
import io.efficientnet.train.export.InferenceExport;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.zoo.PretrainedType;
import org.nd4j.linalg.learning.config.IUpdater;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/** Builds the network a run trains: the configured EfficientNet with the recipe's updater and weight decay. */
public final class ModelFactory {

    private ModelFactory() {
    }

    /**
     * A new network for {@code numClasses}; with {@code model.pretrained} set, every layer whose parameters have the
     * same shape in the source is initialised from it (the classifier of another class count keeps its random init).
     */
    public static ComputationGraph create(TrainConfig config, int numClasses, IUpdater updater,
            Consumer<String> log) throws IOException {
        EfficientNet zoo = config.model().builder(numClasses).updater(updater)
                .weightDecay(config.optimizer().weightDecay()).seed(config.run().seed()).build();
        ComputationGraph net = zoo.init();
        String pretrained = config.model().pretrained();
        if (pretrained != null) {
            ComputationGraph source = source(config, pretrained);
            copyMatching(source, net, pretrained, log);
        }
        return net;
    }

    private static ComputationGraph source(TrainConfig config, String pretrained) throws IOException {
        if (pretrained.equalsIgnoreCase("imagenet")) {
            if (config.model().phi() != null || config.model().width() != null || config.model().depth() != null) {
                throw new IllegalArgumentException("model.pretrained: imagenet needs one of the variants b0-b7 "
                        + "without phi, width or depth overrides");
            }
            Variant v = Variant.parse(config.model().variant());
            return EfficientNet.builder().variant(v).includeTop(false).pooling(Pooling.AVG).build()
                    .initPretrained(PretrainedType.IMAGENET);
        }
        Path zip = Path.of(pretrained);
        if (!Files.isRegularFile(zip)) {
            throw new IOException("model.pretrained: " + zip + " is not a file (use 'imagenet' or a model .zip; "
                    + "convert Keras .h5 files first with 'efficientnet convert')");
        }
        try {
            return InferenceExport.restore(zip);
        } catch (IOException e) {
            throw new IOException("model.pretrained: " + e.getMessage(), e);
        }
    }

    /** Copies parameters layer by layer (by name) where the shapes agree; reports what stayed random. */
    static void copyMatching(ComputationGraph from, ComputationGraph to, String label, Consumer<String> log) {
        int copied = 0;
        List<String> kept = new ArrayList<>();
        for (Layer layer : to.getLayers()) {
            if (layer.numParams() == 0) {
                continue;
            }
            String name = layer.conf().getLayer().getLayerName();
            Layer src = from.getLayer(name);
            if (src != null && sameShapes(src, layer)) {
                layer.setParams(src.params().dup());
                copied++;
            } else {
                kept.add(name + (src == null ? " (absent)" : " (shape differs)"));
            }
        }
        if (copied == 0) {
            throw new IllegalArgumentException("model.pretrained: no layer of " + label
                    + " matches this model by name and shape; is it an EfficientNet of the same variant?");
        }
        log.accept("initialised " + copied + " layers from " + label + (kept.isEmpty() ? ""
                : "; kept random: " + String.join(", ", kept)));
    }

    private static boolean sameShapes(Layer a, Layer b) {
        var pa = a.paramTable();
        var pb = b.paramTable();
        if (!pa.keySet().equals(pb.keySet())) {
            return false;
        }
        for (String k : pa.keySet()) {
            if (!Arrays.equals(pa.get(k).shape(), pb.get(k).shape())) {
                return false;
            }
        }
        return true;
    }
}
