package io.efficientnet.core.onednn;

import io.efficientnet.core.layers.RunningStatistics;
import io.efficientnet.core.training.ModelUpdate;
import org.bytedeco.dnnl.engine;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;
import java.util.List;

/**
 * Training steps of a DL4J EfficientNet computed by oneDNN primitives in oneDNN's blocked layouts instead of DL4J's
 * layers: each {@link #fit} runs the forward pass (batch norms with batch statistics), softmax cross-entropy and the
 * backward pass in oneDNN, writes the gradients into the network's own gradient array, and lets the network's updater
 * take the step ({@code ModelUpdate}: learning rate, momentum, weight decay, listeners, iteration count as in
 * {@code fit}). The network's parameters are read at every step, so {@code fit}, {@code DirectFit} and this
 * class can be mixed, and the network is saved, evaluated and resumed as usual.
 *
 * <pre>{@code
 * try (OneDnnTraining training = OneDnnTraining.of(net)) {
 *     double loss = training.fit(images, oneHotLabels);   // the step net.fit(images, oneHotLabels) takes
 * }
 * }</pre>
 *
 * <p>A step equals {@code fit}'s within float rounding (tested without dropout: loss, every parameter's update,
 * running statistics and optimizer state). Dropout and drop-path masks are drawn from a seed taken from ND4J's random
 * generator at each step: repeatable, not mask-for-mask DL4J's. Runs the graphs this project builds (float32,
 * this project's or DL4J's batch norm, average pooling, a softmax {@code OutputLayer} with multi-class cross-entropy),
 * also with the frozen layers of transfer learning ({@code TransferLearning.GraphBuilder.setFeatureExtractor}): as in
 * DL4J they run as at inference (batch norms normalise with their running statistics and leave them as they are) and
 * their parameters do not change; the ops that only frozen layers feed get no backward pass. Other layer kinds, and
 * a frozen layer that reads from a trainable one, are refused with the vertex's name. Calls are serialised; threads
 * come from {@code OMP_NUM_THREADS}.
 */
public final class OneDnnTraining implements AutoCloseable {

    /** Input shapes whose plans are kept (a plan holds every activation and gradient buffer of a step). */
    public static final int PLANS = 2;

    private final ComputationGraph model;
    private final LoweredNetwork lowered;
    private final ModelUpdate update;
    private final PlanCache<OneDnnTrainingPlan> plans;
    private boolean closed;

    private OneDnnTraining(ComputationGraph model, LoweredNetwork lowered, ActivationLayout layout) {
        this.model = model;
        this.lowered = lowered;
        this.update = new ModelUpdate(model);
        NetworkViews views = new NetworkViews();
        this.plans = new PlanCache<>(PLANS, (shape, eng, strm) -> new OneDnnTrainingPlan(lowered, shape, views, layout,
                eng, strm));
    }

    /**
     * Prepares training steps for {@code model} (initialised, float32).
     *
     * @throws IllegalArgumentException for a layer, vertex or data type the engine cannot train (named)
     * @throws IllegalStateException    where oneDNN's native library cannot be loaded
     */
    public static OneDnnTraining of(ComputationGraph model) {
        return of(model, ActivationLayout.BLOCKED);
    }

    /** {@link #of(ComputationGraph)} with activations kept in {@code layout} where oneDNN has jit kernels for it. */
    static OneDnnTraining of(ComputationGraph model, ActivationLayout layout) {
        if (model.getConfiguration() != null && model.getConfiguration().getDataType() != DataType.FLOAT) {
            throw new IllegalArgumentException("the oneDNN training engine trains float32 networks, this one is "
                    + model.getConfiguration().getDataType());
        }
        LoweredNetwork lowered = GraphLowering.lowerForTraining(model);
        OneDnnInference.unavailableReason().ifPresent(why -> {
            throw new IllegalStateException("the oneDNN engine is not available here: " + why);
        });
        return new OneDnnTraining(model, lowered, layout);
    }

    /** The network as the engine trains it. */
    public LoweredNetwork lowered() {
        return lowered;
    }

    /** One step on a {@link DataSet} (no masks). */
    public double fit(DataSet batch) {
        if (batch.getFeaturesMaskArray() != null || batch.getLabelsMaskArray() != null) {
            throw new IllegalArgumentException("the oneDNN training engine does not take masks");
        }
        return fit(batch.getFeatures(), batch.getLabels());
    }

    /**
     * One optimizer step on {@code features} {@code [N, C, H, W]} with one-hot (or soft) {@code labels}
     * {@code [N, classes]}.
     *
     * @return the loss of the batch before the update, with the regularisation term (what {@code model.score()}
     *         gives after {@code fit}); not finite, and nothing applied, when the loss or any gradient or batch-norm
     *         statistic update of the step is not finite
     */
    public synchronized double fit(INDArray features, INDArray labels) {
        if (closed) {
            throw new IllegalStateException("the oneDNN training engine is closed");
        }
        long n = features == null ? 0 : features.size(0);
        LoweredOp.Dense head = (LoweredOp.Dense) lowered.ops().get(lowered.ops().size() - 1);
        if (features == null || features.rank() != 4 || features.size(1) != lowered.inputChannels()) {
            throw new IllegalArgumentException("features must be [N, " + lowered.inputChannels() + ", H, W], got "
                    + (features == null ? "null" : Arrays.toString(features.shape())));
        }
        if (labels == null || labels.rank() != 2 || labels.size(0) != n || labels.size(1) != head.out()) {
            throw new IllegalArgumentException("labels must be [" + n + ", " + head.out() + "], got "
                    + (labels == null ? "null" : Arrays.toString(labels.shape())));
        }
        double loss;
        try (MemoryWorkspace ignored = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
            INDArray x = PlanCache.denseFloat(features);
            INDArray y = PlanCache.denseFloat(labels);
            long seed = Nd4j.getRandom().nextLong();
            loss = plans.get(x.shape()).run(x, y, seed);
        }
        if (!Double.isFinite(loss)) {
            // nothing has been applied: the gradients are in the gradient array only
            return loss;
        }
        if (!update.gradientIsFinite()) {
            // a finite loss with a non-finite gradient or running-statistic update (an overflow in the backward
            // pass): applying it would leave non-finite weights or statistics that only inference shows
            return Double.NaN;
        }
        double score = loss + model.calcRegularizationScore(true);
        update.apply(score, (int) n);
        return score;
    }

    /**
     * oneDNN's implementation of each primitive of a step for {@code inputShape} (building the plan if needed), e.g.
     * {@code "block2a_dwconv (backward): convolution jit_dw:avx2"}.
     */
    public synchronized List<String> implementations(long... inputShape) {
        return plans.get(inputShape).implementations();
    }

    /** Bytes of activation and gradient buffers of the plan for {@code inputShape} (building it if needed). */
    public synchronized long activationBytes(long... inputShape) {
        return plans.get(inputShape).activationBytes();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        plans.close();
    }

    /** The network's parameter and gradient views, and DL4J's running-statistic updates. */
    private final class NetworkViews implements OneDnnTrainingPlan.Views {

        @Override
        public INDArray param(String layer, String key) {
            INDArray p = model.getLayer(layer).getParam(key);
            if (p == null) {
                throw new IllegalArgumentException("layer '" + layer + "' has no parameter '" + key + "'");
            }
            return p;
        }

        @Override
        public INDArray gradient(String layer, String key) {
            INDArray g = update.gradient().getGradientFor(layer + "_" + key);
            if (g == null) {
                throw new IllegalArgumentException("layer '" + layer + "' has no gradient for '" + key + "'");
            }
            return g;
        }

        /** DL4J's running-statistic update as the gradients its no-op updater subtracts ({@link RunningStatistics}). */
        @Override
        public void batchStatistics(String layer, double[] mean, double[] variance) {
            Layer l = model.getLayer(layer);
            BatchNormalization conf = (BatchNormalization) l.conf().getLayer();
            double d = conf.getDecay();
            boolean logStd = conf.isUseLogStd();
            double[] running = l.getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN).toDoubleVector();
            write(gradient(layer, BatchNormalizationParamInitializer.GLOBAL_MEAN),
                    RunningStatistics.meanGradient(d, running, mean));
            String key = RunningStatistics.varianceKey(logStd);
            double[] runningVar = RunningStatistics.variance(logStd, l.getParam(key).toDoubleVector());
            write(gradient(layer, key), RunningStatistics.varianceGradient(d, logStd, runningVar, variance));
        }

        @Override
        public double[][] runningStatistics(String layer) {
            Layer l = model.getLayer(layer); // a frozen layer's conf() and getParam() are its wrapped layer's
            boolean logStd = ((BatchNormalization) l.conf().getLayer()).isUseLogStd();
            double[] mean = l.getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN).toDoubleVector();
            double[] stored = l.getParam(RunningStatistics.varianceKey(logStd)).toDoubleVector();
            return new double[][] {mean, RunningStatistics.variance(logStd, stored)};
        }

        private void write(INDArray view, double[] values) {
            view.assign(Nd4j.createFromArray(values).castTo(view.dataType()).reshape(view.shape()));
        }
    }
}
