package io.efficientnet.train.run;

import io.efficientnet.core.weights.ImageNetPreprocessing;
import io.efficientnet.core.weights.ModelZip;
import io.efficientnet.core.weights.ModelZipLoader;
import io.efficientnet.train.data.EvalTransform;
import io.efficientnet.train.export.InferenceExport;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.api.preprocessor.Normalizer;
import org.nd4j.linalg.dataset.api.preprocessor.DataNormalization;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A model zip as {@code convert} and {@code train} write it: the network, its input normaliser (ImageNet's if the zip
 * has none), the class names (null if the zip has none), the input shape {@code [c, h, w]} and the centre-crop
 * fraction of its evaluation preprocessing ({@value EvalTransform#CROP_FRACTION} if the zip does not say).
 */
public record SavedModel(ComputationGraph network, DataNormalization normalizer, List<String> labels,
                         int[] inputShape, double evalCrop) {

    /** Reads {@code zip} (inference only: no updater state). */
    public static SavedModel load(Path zip) throws IOException {
        ComputationGraph net = InferenceExport.restore(zip); // checks the file and names it in errors
        Normalizer<?> stored = ModelZipLoader.normalizer(zip);
        if (stored != null && !(stored instanceof DataNormalization)) {
            throw new IOException(zip + ": the normaliser is a " + stored.getClass().getSimpleName() + ", not one for "
                    + "single-input images");
        }
        DataNormalization normalizer = (DataNormalization) stored;
        String names = ModelZip.readEntry(zip, ModelZip.LABELS);
        int[] chw = ModelZip.readInputShape(zip);
        Double crop = ModelZip.readEvalCrop(zip);
        return new SavedModel(net, normalizer != null ? normalizer : ImageNetPreprocessing.normalizer(),
                names == null ? null : names.lines().filter(l -> !l.isBlank()).toList(),
                chw != null ? chw : new int[] {3, 224, 224}, crop != null ? crop : EvalTransform.CROP_FRACTION);
    }
}
