package io.efficientnet.core.training;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;

/** The checks {@link DirectFit} makes on its model and on every batch. */
final class StepInputs {

    private StepInputs() {
    }

    /** Fails unless {@code model} is initialised and has one input and one output. */
    static void requireModel(ComputationGraph model, String who) {
        if (model == null) {
            throw new IllegalArgumentException("model must not be null");
        }
        if (model.getNumInputArrays() != 1 || model.getNumOutputArrays() != 1) {
            throw new IllegalArgumentException(who + " needs a network with one input and one output, got "
                    + model.getNumInputArrays() + " inputs " + model.getConfiguration().getNetworkInputs() + " and "
                    + model.getNumOutputArrays() + " outputs " + model.getConfiguration().getNetworkOutputs());
        }
        if (model.params() == null) {
            throw new IllegalArgumentException("the model is not initialised: call init() first");
        }
    }

    /** Fails unless {@code batch} has no mask arrays (neither step supports them). */
    static void requireNoMasks(DataSet batch, String who) {
        if (batch.getFeaturesMaskArray() != null || batch.getLabelsMaskArray() != null) {
            throw new IllegalArgumentException(who + " does not support mask arrays");
        }
    }

    /** Fails unless features and labels are batches with the same number {@code N >= 1} of examples. */
    static void requireBatch(INDArray features, INDArray labels) {
        if (features == null || labels == null || features.rank() < 1 || labels.rank() < 1 || features.size(0) < 1
                || features.size(0) != labels.size(0)) {
            throw new IllegalArgumentException("features and labels must be batches [N, ...] with the same N >= 1, "
                    + "got " + describe(features) + " and " + describe(labels));
        }
    }

    /** The array's shape information on one line, or "null". */
    static String describe(INDArray a) {
        return a == null ? "null" : a.shapeInfoToString().replace('\n', ' ');
    }
}
