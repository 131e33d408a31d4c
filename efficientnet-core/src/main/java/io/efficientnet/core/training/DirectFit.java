package io.efficientnet.core.training;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;

/**
 * {@code model.fit(features, labels)} for a network with one input and one output, without mask arrays, with DL4J's
 * updater working on the views it prepared once instead of re-slicing every parameter on every step (see
 * {@code ModelUpdate}): the same forward and backward pass on the calling thread, the same update, the same results
 * bit for bit (tested), and a faster update (B0: 8–14 ms instead of 27–140 ms per step, BENCHMARKS.md).
 * Not thread-safe, as {@code fit} is not.
 */
public final class DirectFit {

    private final ComputationGraph model;
    private final ModelUpdate update;

    private DirectFit(ComputationGraph model) {
        this.model = model;
        this.update = new ModelUpdate(model);
    }

    /**
     * Fits {@code model} step by step.
     *
     * @throws IllegalArgumentException if the model is not initialised or does not have exactly one input and one
     *                                  output
     */
    public static DirectFit of(ComputationGraph model) {
        StepInputs.requireModel(model, "DirectFit");
        return new DirectFit(model);
    }

    /**
     * One optimizer step on {@code batch}.
     *
     * @return the loss of the batch before the update (what {@code model.score()} gives after {@code fit})
     * @throws IllegalArgumentException if the batch has mask arrays, or features and labels do not match
     */
    public double fit(DataSet batch) {
        StepInputs.requireNoMasks(batch, "DirectFit");
        return fit(batch.getFeatures(), batch.getLabels());
    }

    /**
     * One optimizer step on {@code features} / {@code labels}.
     *
     * @return the loss of the batch before the update (what {@code model.score()} gives after {@code fit})
     * @throws IllegalArgumentException if features or labels are missing, empty or have different example counts
     */
    public double fit(INDArray features, INDArray labels) {
        StepInputs.requireBatch(features, labels);
        model.setInputs(features);
        model.setLabels(labels);
        try {
            model.computeGradientAndScore();
            double score = model.score();
            update.apply(score, (int) features.size(0));
            return score;
        } finally {
            model.clearLayersStates();
        }
    }
}
