package io.efficientnet.core;

import io.efficientnet.core.model.NetworkOptions;
import io.efficientnet.core.model.Pooling;
import io.efficientnet.core.model.Variant;
import io.efficientnet.core.weights.PretrainedWeights;
import io.efficientnet.core.weights.WeightSource;
import org.deeplearning4j.common.resources.DL4JResources;
import org.deeplearning4j.common.resources.ResourceType;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.zoo.PretrainedType;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Builds a model and fills it with pretrained weights: the weight file is converted once into a cached DL4J zip of
 * the canonical network (with or without the classifier, as the file has it), and each layer of the requested model
 * takes the parameters of the layer with the same name.
 */
final class PretrainedLoader {

    private PretrainedLoader() {
    }

    /**
     * @param model      the network to build (any input size, head or multi-scale outputs)
     * @param type       the weights asked for (only ImageNet's exist)
     * @param configured the weight file configured on the builder, or null for the official Keras one
     * @param variant    the variant the weights belong to, or null for a model with no published weights
     * @param name       the model's name, for messages
     */
    static ComputationGraph load(EfficientNet model, PretrainedType type, WeightSource configured, Variant variant,
                                 String name) throws IOException {
        if (type != PretrainedType.IMAGENET) {
            throw new UnsupportedOperationException("EfficientNet has ImageNet weights only, not " + type);
        }
        OneDnnHelpers.enableUnlessConfigured();
        if (variant == null) {
            throw new UnsupportedOperationException("ImageNet weights exist for B0-B7 with their published width and "
                    + "depth only; this model is " + name);
        }
        WeightSource source = source(configured, variant, model.options());
        if (wantsClassifierWeights(model.options()) && model.options().numClasses() != 1000) {
            throw new IllegalStateException("ImageNet weights have 1000 classes but the model has "
                    + model.options().numClasses() + ": build it with includeTop(false) and add your own "
                    + "classifier, or replace 'predictions' with TransferLearning");
        }
        Path cacheDir = DL4JResources.getDirectory(ResourceType.ZOO_MODEL, "efficientnet").toPath();
        Path zip = PretrainedWeights.cachedModel(source, withTop -> EfficientNet.builder().variant(variant)
                .includeTop(withTop).pooling(Pooling.NONE).build().init(), variant.id(), cacheDir);
        ComputationGraph cached = PretrainedWeights.restore(zip);
        ComputationGraph net = model.init();
        for (Layer layer : net.getLayers()) {
            if (layer.numParams() == 0) {
                continue;
            }
            String layerName = layer.conf().getLayer().getLayerName();
            Layer from = cached.getLayer(layerName);
            if (from == null || from.numParams() != layer.numParams()) {
                throw new IOException("the weights in " + zip + " (from " + source.uri() + ") do not fit layer '"
                        + layerName + "' of this " + name + " model" + (from == null && layerName.equals("predictions")
                        ? ": the weight file has no classifier; build the model with includeTop(false)" : ""));
            }
            layer.setParams(from.params());
        }
        return net;
    }

    /** The configured weight file, or the official Keras file (top or notop) for the variant. */
    static WeightSource source(WeightSource configured, Variant variant, NetworkOptions options) {
        return configured != null ? configured : WeightSource.imagenet(variant, wantsClassifierWeights(options));
    }

    /** Whether the pretrained file must include the classifier (multi-scale graphs have no head). */
    private static boolean wantsClassifierWeights(NetworkOptions options) {
        return options.includeTop() && !options.multiScaleFeatures();
    }
}
