package io.efficientnet.core.training;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * The part of DL4J's {@code fit} that follows the gradient computation (listeners, the updater's division by the
 * batch size, learning rate, momentum and regularisation, the parameter step, the iteration count, constraints),
 * applied to the gradient in the model's own flattened gradient array.
 *
 * <p>It hands the updater a gradient whose {@code gradient()} is that array itself. DL4J 1.0.0-M2.1's
 * {@link DefaultGradient#gradient()} returns a new reshaped array object on every call, which the updater takes for a
 * gradient from another network ("external") and then re-slices every parameter's gradient and parameter views on
 * every step; with the array itself it uses the views it prepared once. Same operations on the same memory, so the
 * same results (tested bit for bit); B0's update took 27–140 ms on the external path and 8–14 ms here
 * (BENCHMARKS.md).
 */
public final class ModelUpdate {

    private final ComputationGraph model;
    private final Gradient gradient;
    /** Gradient entries that are updates rather than sums over examples (batch norm's running statistics). */
    private final List<String> notDividedByBatch;

    /** Prepares the update of {@code model} (initialises its flattened gradient array if needed). */
    public ModelUpdate(ComputationGraph model) {
        this.model = model;
        if (model.getFlattenedGradients() == null) {
            model.initGradientsView();
        }
        this.gradient = new FlatGradient(model.getFlattenedGradients());
        List<String> notDivided = new ArrayList<>();
        for (Layer layer : model.getLayers()) {
            for (Map.Entry<String, INDArray> e : gradientViews(layer).entrySet()) {
                String key = layer.conf().getLayer().getLayerName() + "_" + e.getKey();
                gradient.setGradientFor(key, e.getValue());
                if (!layer.updaterDivideByMinibatch(e.getKey())) {
                    notDivided.add(key);
                }
            }
        }
        this.notDividedByBatch = Collections.unmodifiableList(notDivided);
    }

    /** The model's gradient, one view of its flattened gradient array per parameter, keyed {@code <layer>_<param>}. */
    public Gradient gradient() {
        return gradient;
    }

    /** Keys of {@link #gradient()} that hold updates rather than sums over the examples of a batch. */
    public List<String> notDividedByBatch() {
        return notDividedByBatch;
    }

    /**
     * Whether the sum of the model's flattened gradient array (gradients and batch norm's running-statistic updates)
     * is finite: false when any entry is not finite, and when the entries are so large that their float sum overflows.
     */
    public boolean gradientIsFinite() {
        return Double.isFinite(model.getFlattenedGradients().sumNumber().doubleValue());
    }

    /**
     * One optimizer step from the gradient now in the model's flattened gradient array (sums over the batch's
     * {@code batchSize} examples), as DL4J's stochastic gradient descent does it after {@code computeGradientAndScore}.
     */
    public void apply(double score, int batchSize) {
        int iteration = model.getIterationCount();
        int epoch = model.getEpochCount();
        model.setScore(score);
        List<TrainingListener> listeners = new ArrayList<>(model.getListeners());
        try (MemoryWorkspace ignored = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
            for (TrainingListener l : listeners) {
                l.onGradientCalculation(model);
            }
            model.getUpdater().update(gradient, iteration, epoch, batchSize, LayerWorkspaceMgr.noWorkspaces());
            model.params().subi(model.getFlattenedGradients().reshape(model.params().shape()));
            for (TrainingListener l : listeners) {
                l.iterationDone(model, iteration, epoch);
            }
        }
        model.getConfiguration().setIterationCount(iteration + 1);
        model.applyConstraints(iteration + 1, epoch);
    }

    private static Map<String, INDArray> gradientViews(Layer layer) {
        INDArray view = layer.getGradientsViewArray();
        if (layer.numParams() == 0 || view == null) {
            return Map.of();
        }
        return layer.conf().getLayer().initializer().getGradientsFromFlattened(layer.conf(), view);
    }

    /** A gradient whose {@link #gradient()} is the flattened array it was made with, not a reshaped copy of it. */
    private static final class FlatGradient extends DefaultGradient {
        private final INDArray flat;

        FlatGradient(INDArray flat) {
            super(flat);
            this.flat = flat;
        }

        @Override
        public INDArray gradient() {
            return flat;
        }
    }
}
