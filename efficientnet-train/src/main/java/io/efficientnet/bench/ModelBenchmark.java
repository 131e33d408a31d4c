package io.efficientnet.bench;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.layers.IOutputLayer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Times inference or training iterations of a {@link ComputationGraph} on synthetic data.
 *
 * <p>Input: standard-normal {@code [batch, C, H, W]} values from ND4J's RNG seeded with the spec's seed; labels:
 * one-hot classes from {@code java.util.Random(seed)}. The same arrays are used for every iteration (no data
 * loading is measured). Inference iterations are {@code output(false, x)}; training iterations are
 * {@code fit(x, y)}, i.e. forward, backward and one update, with plain SGD (no momentum, no weight decay) at the
 * spec's learning rate set on every layer, the update PyTorch's {@code torch.optim.SGD(lr)} makes, so that the
 * comparison script measures the same work on both sides.
 */
public final class ModelBenchmark {

    /** How the optimizer of train mode is described in the report. */
    static final String SGD_NOTE = "SGD, learning rate %s, no momentum, no weight decay";

    /** Samples off-heap memory this often while running. */
    static final long MEMORY_SAMPLE_MILLIS = 20;

    private ModelBenchmark() {
    }

    /**
     * Runs the benchmark.
     *
     * @param net        an initialised network (its updater is replaced by SGD in training mode)
     * @param chw        input {@code [channels, height, width]}
     * @param model      name for the report
     * @param spec       what to measure
     * @param notes      extra facts to carry into the report (may be empty)
     * @throws IllegalArgumentException if training is asked of a network without a single output layer
     */
    public static BenchmarkResult run(ComputationGraph net, int[] chw, String model, BenchmarkSpec spec,
            Map<String, Object> notes) {
        boolean train = spec.mode() == BenchmarkMode.TRAIN;
        INDArray[] labels = null;
        String optimizer = null;
        if (train) {
            labels = new INDArray[] {labels(net, spec)};
            useSgd(net, spec.learningRate());
            optimizer = SGD_NOTE.formatted(spec.learningRate());
        }
        INDArray x = syntheticBatch(net, chw, spec);
        INDArray[] y = labels;
        Runnable step = train ? () -> net.fit(new INDArray[] {x}, y) : () -> net.output(false, x);

        Timing timing = time(step, spec.warmup(), spec.iterations());
        LayerProfiler.Profile profile = null;
        if (spec.profile()) {
            profile = LayerProfiler.profile(net, x, labels, spec.iterations(),
                    InputType.convolutional(chw[1], chw[2], chw[0]));
        }
        return new BenchmarkResult(model, spec, chw.clone(), net.numParams(), optimizer, timing.ms(), timing.peak(),
                BackendInfo.current(), profile, notes);
    }

    /** The timed batch: standard normal {@code [batch, C, H, W]} in the network's data type, ND4J's RNG seeded first. */
    static INDArray syntheticBatch(ComputationGraph net, int[] chw, BenchmarkSpec spec) {
        Nd4j.getRandom().setSeed(spec.seed());
        DataType type = net.getConfiguration().getDataType();
        return Nd4j.randn(type, spec.batchSize(), chw[0], chw[1], chw[2]);
    }

    /**
     * Fails unless {@code actual} equals {@code expected} (the network's own output) within 1e-4 of the larger of 1
     * and the largest expected magnitude, so that a wrongly set-up inference path cannot pass for a fast one.
     *
     * @param path names the inference path in the message, e.g. {@code "sharded"}
     */
    static void requireSameOutput(INDArray expected, INDArray actual, String path) {
        double diff = actual.sub(expected).amaxNumber().doubleValue();
        if (!(diff <= 1e-4 * Math.max(1, expected.amaxNumber().doubleValue()))) {
            throw new IllegalStateException(path + " output differs from net.output by " + diff);
        }
    }

    /** Milliseconds of each timed iteration and the peak memory over warm-up and timed iterations. */
    record Timing(double[] ms, MemoryMonitor.Peak peak) {
    }

    /** Runs {@code step} {@code warmup} times untimed, then {@code iterations} times timed, sampling memory. */
    static Timing time(Runnable step, int warmup, int iterations) {
        MemoryMonitor memory = MemoryMonitor.start(MEMORY_SAMPLE_MILLIS);
        double[] ms = new double[iterations];
        MemoryMonitor.Peak peak;
        try {
            for (int i = 0; i < warmup; i++) {
                step.run();
                memory.sample();
            }
            for (int i = 0; i < iterations; i++) {
                long t0 = System.nanoTime();
                step.run();
                ms[i] = (System.nanoTime() - t0) / 1e6;
                memory.sample();
            }
        } finally {
            peak = memory.stop();
        }
        return new Timing(ms, peak);
    }

    /** Sets plain SGD with {@code learningRate} on every layer with parameters (before the first fit). */
    public static void useSgd(ComputationGraph net, double learningRate) {
        if (net.getUpdater(false) != null) {
            throw new IllegalStateException("the network already has an updater; set SGD before training it");
        }
        for (Layer layer : net.getLayers()) {
            if (layer.conf().getLayer() instanceof BaseLayer base) {
                base.setIUpdater(new Sgd(learningRate));
                base.setBiasUpdater(null);
            }
        }
    }

    /** Number of classes of the network's single output layer. */
    static int classifierOutputs(ComputationGraph net) {
        if (net.getNumOutputArrays() != 1 || !(net.getOutputLayer(0) instanceof IOutputLayer)) {
            String last = net.getConfiguration().getNetworkOutputs().toString();
            throw new IllegalArgumentException("train mode needs a network that ends in one output layer "
                    + "(a classifier); this one's outputs are " + last + " (a headless model?)");
        }
        Layer out = net.getOutputLayer(0);
        return (int) ((org.deeplearning4j.nn.conf.layers.FeedForwardLayer) out.conf().getLayer()).getNOut();
    }

    /** The input and labels of timed training steps. */
    record TrainingBatch(INDArray x, INDArray y) {
    }

    /**
     * What the training benchmarks time on: the labels, then plain SGD set on the network, then the synthetic input
     * (in the order {@link #run} takes them, so every training benchmark sees the same data).
     */
    static TrainingBatch sgdTrainingBatch(ComputationGraph net, int[] chw, BenchmarkSpec spec) {
        INDArray y = labels(net, spec);
        useSgd(net, spec.learningRate());
        return new TrainingBatch(syntheticBatch(net, chw, spec), y);
    }

    /** The loss ({@code score()}) of one training-mode pass of {@code net} over a batch, without an update. */
    static double trainingLoss(ComputationGraph net, INDArray x, INDArray y) {
        net.setInputs(x);
        net.setLabels(y);
        net.computeGradientAndScore();
        return net.score();
    }

    /**
     * Fails unless {@code loss}, one step of the engine {@code engine} on {@code x}/{@code y} without random
     * regularisation, is what DL4J computes: within 1e-5 of a DL4J float32 training pass (a few float32 roundings of
     * the sums), or else within what float32 rounding explains. That bound comes from float64 passes: 3× the float32
     * pass's own distance from the float64 loss, plus 100× how far the float64 loss moves when every parameter and input
     * value is moved by one float32 rounding (the loss's sensitivity to rounding: a float32 pass rounds again at each of
     * the network's layers, and its sums of up to thousands of products add ~√K roundings each). Tiny batches whose last maps are 1×1 make batch norm's statistics ill-conditioned, and there
     * float32 losses legitimately differ by percents between CPUs and kernels; a wrong set-up is off by far more.
     */
    static void checkLoss(ComputationGraph net, INDArray x, INDArray y, double loss, String engine) {
        double float32 = trainingLoss(withoutDropout(net), x, y);
        if (Math.abs(loss - float32) <= 1e-5 * Math.max(1, Math.abs(float32))) {
            return;
        }
        ComputationGraph exact = withoutDropout(net).convertDataType(DataType.DOUBLE);
        INDArray x64 = x.castTo(DataType.DOUBLE);
        INDArray y64 = y.castTo(DataType.DOUBLE);
        double reference = trainingLoss(exact, x64, y64);
        exact.setParams(roundingPerturbed(exact.params(), 1));
        double sensitivity = Math.abs(trainingLoss(exact, roundingPerturbed(x64, 2), y64) - reference);
        double tolerance = 3 * Math.abs(float32 - reference) + 100 * sensitivity + 1e-5 * Math.abs(reference);
        if (!(Math.abs(loss - reference) <= tolerance)) {
            throw new IllegalStateException(String.format(Locale.ROOT, "%s's loss %.6g differs from DL4J's float64 "
                    + "loss %.6g by more than float32 rounding explains (%.3g; DL4J's float32 loss: %.6g)", engine,
                    loss, reference, tolerance, float32));
        }
    }

    /** {@code a} (float64) with every value moved by one float32 rounding: × (1 ± 2⁻²⁴), random signs. */
    private static INDArray roundingPerturbed(INDArray a, long seed) {
        double[] v = a.dup().data().asDouble();
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        for (int i = 0; i < v.length; i++) {
            v[i] *= 1 + (random.nextBoolean() ? 1 : -1) * 0x1p-24;
        }
        return Nd4j.createFromArray(v).reshape(a.shape());
    }

    /** A copy of {@code net} (own parameters) with dropout and drop-path removed from every layer. */
    static ComputationGraph withoutDropout(ComputationGraph net) {
        ComputationGraphConfiguration conf = net.getConfiguration().clone();
        for (GraphVertex v : conf.getVertices().values()) {
            if (v instanceof LayerVertex lv) {
                lv.getLayerConf().getLayer().setIDropout(null);
            }
        }
        ComputationGraph copy = new ComputationGraph(conf);
        copy.init(net.params().dup(), false);
        return copy;
    }

    /** The timed labels: one-hot classes of the network's classifier from {@code java.util.Random(seed)}. */
    static INDArray labels(ComputationGraph net, BenchmarkSpec spec) {
        return oneHot(spec.batchSize(), classifierOutputs(net), spec.seed(), net);
    }

    private static INDArray oneHot(int batch, int classes, long seed, ComputationGraph net) {
        Random r = new Random(seed);
        float[] v = new float[batch * classes];
        for (int i = 0; i < batch; i++) {
            v[i * classes + r.nextInt(classes)] = 1f;
        }
        return Nd4j.createFromArray(v).reshape(batch, classes).castTo(net.getConfiguration().getDataType());
    }
}
