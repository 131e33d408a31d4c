package io.efficientnet.examples;

import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.model.Pooling;
import io.efficientnet.core.model.Variant;
import io.efficientnet.core.weights.ImageNetPreprocessing;
import io.efficientnet.core.weights.KerasWeightFile;
import io.efficientnet.core.weights.KerasWeightImporter;
import io.efficientnet.train.run.SavedModel;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.zoo.PretrainedType;
import org.nd4j.linalg.dataset.api.preprocessor.DataNormalization;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The pretrained network the examples transfer from, with its input normaliser and size, and how to build the same
 * architecture from scratch (the baseline transfer learning has to beat).
 *
 * @param classifier   the pretrained network with its own classifier ({@code predictions} after {@code avg_pool})
 * @param normalizer   the input normalisation it was trained with
 * @param resolution   its square input size
 * @param description  where the weights came from, for the output
 * @param architecture the same network, unbuilt: for training from scratch (batch-norm momentum 0.9, so that the
 *                     running statistics settle within a short run, as in {@code config/quickstart.yaml})
 */
record Backbone(ComputationGraph classifier, DataNormalization normalizer, int resolution, String description,
                EfficientNet.Builder architecture) {

    /** The shipped backbone's file, relative to the repository root. */
    static final Path FASHION = Path.of("efficientnet-examples", "models", "fashion-mnist-backbone.zip");

    /**
     * {@code --backbone fashion} (the default: the small backbone shipped with the project, trained on five other
     * Fashion-MNIST classes; always at hand, offline too), {@code --backbone imagenet} (B0 with the Keras ImageNet
     * weights, downloaded once) or {@code --keras FILE.h5} (B0 with that file's weights); these two at
     * {@code --resolution} (default 224; 32 with {@code --fast}).
     */
    static Backbone choose(Examples.Args args) throws IOException {
        Path keras = args.path("keras");
        int res = args.getInt("resolution", args.fast() ? 32 : 224);
        if (keras != null) {
            return keras(keras, res);
        }
        String which = args.get("backbone", "fashion");
        return switch (which) {
            case "fashion" -> fashion();
            case "imagenet" -> imagenet(res);
            default -> throw new IllegalArgumentException("--backbone must be fashion or imagenet, got '" + which
                    + "'");
        };
    }

    /** The shipped Fashion-MNIST backbone: B0's blocks at width 0.5 and depth 0.5, 32×32 (see models/README.md). */
    static Backbone fashion() throws IOException {
        Path file = Examples.inRepository(FASHION);
        SavedModel saved = SavedModel.load(file);
        int res = saved.inputShape()[1];
        return new Backbone(saved.network(), saved.normalizer(), res, "the shipped Fashion-MNIST backbone ("
                + String.join(", ", saved.labels()) + "; " + file.getFileName() + ")", EfficientNet.builder()
                .variant(Variant.B0).widthMultiplier(0.5).depthMultiplier(0.5).resolution(res).batchNormMomentum(0.9)
                .seed(42));
    }

    /** EfficientNet-B0 with the Keras ImageNet weights, at {@code res}×{@code res}. */
    static Backbone imagenet(int res) throws IOException {
        EfficientNet model = EfficientNet.builder().variant(Variant.B0).resolution(res).pooling(Pooling.AVG).build();
        return new Backbone(model.initPretrained(PretrainedType.IMAGENET), ImageNetPreprocessing.normalizer(), res,
                "EfficientNet-B0, ImageNet weights", EfficientNet.builder().variant(Variant.B0).resolution(res)
                .batchNormMomentum(0.9).seed(42));
    }

    /** EfficientNet-B0 with the weights of a Keras {@code .h5} file (with or without its classifier). */
    static Backbone keras(Path file, int res) throws IOException {
        boolean top;
        try (KerasWeightFile f = KerasWeightFile.open(file)) {
            top = f.hasLayer("predictions");
        }
        ComputationGraph net = EfficientNet.builder().variant(Variant.B0).resolution(res).includeTop(top)
                .pooling(Pooling.AVG).build().init();
        KerasWeightImporter.Result r = KerasWeightImporter.load(net, file, "b0");
        return new Backbone(net, ImageNetPreprocessing.normalizer(), res, "EfficientNet-B0, Keras weights from "
                + file + " (" + r.layersLoaded() + " layers)", EfficientNet.builder().variant(Variant.B0)
                .resolution(res).batchNormMomentum(0.9).seed(42));
    }
}
