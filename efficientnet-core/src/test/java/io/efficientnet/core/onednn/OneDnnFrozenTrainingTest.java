package io.efficientnet.core.onednn;

import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.engine.Engine;
import io.efficientnet.core.engine.Engines;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import static io.efficientnet.core.Float64Checks.assertAsCloseToExact;
import static io.efficientnet.core.Float64Checks.logits;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Transfer-learning graphs (a frozen prefix from {@code TransferLearning.GraphBuilder.setFeatureExtractor}) train in
 * the oneDNN engine as {@code fit} trains them: frozen layers at inference (batch norms with running statistics, left
 * as they are), frozen parameters unchanged bit for bit, the trainable ones updated as DL4J updates them, and no
 * backward steps for what only frozen layers feed. Every pool buffer is NaN at the start of each step here
 * ({@link BufferPool#POISON_PROPERTY}): a step that reads what it did not write fails these tests.
 */
@Tag("numeric")
class OneDnnFrozenTrainingTest {

    private static final int CLASSES = 5;

    @BeforeAll
    static void poisonBuffers() {
        System.setProperty(BufferPool.POISON_PROPERTY, "true");
    }

    @AfterAll
    static void stopPoisoning() {
        System.clearProperty(BufferPool.POISON_PROPERTY);
    }

    /** A small EfficientNet (every vertex kind of B0) with random running statistics (γ = 1, β = 0). */
    private static ComputationGraph base(int res) {
        ComputationGraph net = EfficientNet.builder().phi(-3).resolution(res).numClasses(CLASSES)
                .updater(new Nesterovs(0.01, 0.9)).weightDecay(1e-3).dropoutRate(0).dropPathRate(0).seed(3).build()
                .init();
        Nd4j.getRandom().setSeed(21);
        for (Layer l : net.getLayers()) {
            if (l.conf().getLayer() instanceof BatchNormalization) {
                INDArray mean = l.getParam("mean");
                l.setParam("mean", Nd4j.randn(DataType.DOUBLE, mean.shape()).muli(0.3).castTo(mean.dataType()));
                INDArray var = Nd4j.rand(DataType.DOUBLE, mean.shape()).muli(2).addi(0.2);
                l.setParam("log10stdev", Transforms.log(var, 10.0, true).muli(0.5).castTo(mean.dataType()));
            }
        }
        return net;
    }

    /** Frozen up to (and including) {@code vertex}, the rest trained as configured. */
    private static ComputationGraph frozenUpTo(ComputationGraph net, String vertex) {
        return new TransferLearning.GraphBuilder(net).setFeatureExtractor(vertex).build();
    }

    /** {@code TransferLearningExample}'s surgery: frozen up to {@code top_activation}, a new 3-class head. */
    private static ComputationGraph newHead(ComputationGraph net) {
        return new TransferLearning.GraphBuilder(net)
                .fineTuneConfiguration(new FineTuneConfiguration.Builder().updater(new Nesterovs(0.05, 0.9)).seed(9)
                        .build())
                .setFeatureExtractor("top_activation")
                .nOutReplace("predictions", 3, WeightInit.XAVIER)
                .build();
    }

    /** A new hidden dense layer {@code fc} and a 3-class head on {@code avg_pool}. */
    private static ComputationGraph withDenseHead(ComputationGraph net) {
        long features = net.getLayer("predictions").getParam("W").size(0);
        return new TransferLearning.GraphBuilder(net)
                .fineTuneConfiguration(new FineTuneConfiguration.Builder().updater(new Sgd(0.05)).seed(9).build())
                .removeVertexKeepConnections("predictions")
                .addLayer("fc", new DenseLayer.Builder().nIn(features).nOut(16).activation(Activation.RELU).build(),
                        "avg_pool")
                .addLayer("predictions", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "fc")
                .setOutputs("predictions").build();
    }

    /**
     * The examples' frozen backbone: frozen up to {@code avg_pool}, a new head that standardises the pooled features
     * (a batch norm on {@code [N, C]}) before a 3-class softmax.
     */
    private static ComputationGraph withBatchNormHead(ComputationGraph net) {
        long features = net.getLayer("predictions").getParam("W").size(0);
        TransferLearning.GraphBuilder b = new TransferLearning.GraphBuilder(net)
                .fineTuneConfiguration(new FineTuneConfiguration.Builder().updater(new Nesterovs(0.05, 0.9)).seed(9)
                        .build())
                .setFeatureExtractor("avg_pool");
        for (String v : List.of("predictions", "top_dropout")) {
            if (net.getConfiguration().getVertices().containsKey(v)) {
                b.removeVertexAndConnections(v);
            }
        }
        return b.addLayer("head_bn", new BatchNormalization.Builder().nIn(features).nOut(features).build(), "avg_pool")
                .addLayer("predictions", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(features)
                        .nOut(3).activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).build(), "head_bn")
                .setOutputs("predictions").build();
    }

    private static List<String> frozenLayers(ComputationGraph net) {
        List<String> names = new ArrayList<>();
        for (Layer l : net.getLayers()) {
            if (l instanceof org.deeplearning4j.nn.layers.FrozenLayer && l.numParams() > 0) {
                names.add(l.conf().getLayer().getLayerName());
            }
        }
        return names;
    }

    /**
     * Two steps through the engine against two of {@code fit} (float32, and float64 as the reference) from the same
     * start: the loss, every parameter's update (running statistics included), the optimizer state and the logits after
     * the first step, the update after the second (not the second loss: a single value, whose float32 error DL4J's
     * result may miss by chance); the frozen layers' parameters and running statistics unchanged bit for bit.
     */
    private static void assertSameStep(UnaryOperator<ComputationGraph> freeze, int batch, int res) {
        ComputationGraph plain = freeze.apply(base(res));
        ComputationGraph engine = freeze.apply(base(res));
        ComputationGraph exact = plain.convertDataType(DataType.DOUBLE);
        assertEquals(plain.params(), engine.params());
        List<String> frozen = frozenLayers(engine);
        assertFalse(frozen.isEmpty());
        assertEquals(frozen, frozenLayers(exact), "the float64 reference keeps the frozen layers");
        Map<String, INDArray> frozenStart = new HashMap<>();
        frozen.forEach(name -> frozenStart.put(name, engine.getLayer(name).params().dup()));
        INDArray start = plain.params().dup();
        Nd4j.getRandom().setSeed(100);
        INDArray x = Nd4j.randn(DataType.FLOAT, batch, 3, res, res);
        int classes = (int) plain.getLayer("predictions").getParam("b").length();
        INDArray y = OneDnnTrainingTest.oneHot(batch, classes);
        try (OneDnnTraining training = OneDnnTraining.of(engine)) {
            plain.fit(new INDArray[] {x}, new INDArray[] {y});
            exact.fit(new INDArray[] {x.castTo(DataType.DOUBLE)}, new INDArray[] {y.castTo(DataType.DOUBLE)});
            OneDnnTrainingTest.assertStepAsCloseToExact(exact, plain, engine, start, training.fit(x, y));
            for (String name : frozen) {
                assertEquals(frozenStart.get(name), plain.getLayer(name).params(), "fit: frozen " + name);
                assertEquals(frozenStart.get(name), engine.getLayer(name).params(), "frozen " + name);
            }
            Nd4j.getRandom().setSeed(7);
            INDArray probe = Nd4j.randn(DataType.FLOAT, 3, 3, res, res);
            assertAsCloseToExact(logits(exact, probe.castTo(DataType.DOUBLE)), logits(plain, probe),
                    logits(engine, probe), "logits after the step");
            plain.fit(new INDArray[] {x}, new INDArray[] {y});
            exact.fit(new INDArray[] {x.castTo(DataType.DOUBLE)}, new INDArray[] {y.castTo(DataType.DOUBLE)});
            assertTrue(Double.isFinite(training.fit(x, y)));
            assertAsCloseToExact(exact.params().castTo(DataType.FLOAT).sub(start), plain.params().sub(start),
                    engine.params().sub(start), "update after two steps");
            for (String name : frozen) {
                assertEquals(frozenStart.get(name), engine.getLayer(name).params(), "frozen " + name + ", 2 steps");
            }
        }
    }

    @Test
    void frozenBelowAnInnerBlockTrainsLikeFit() {
        // the first trainable op reads a residual sum of the frozen part: no input gradient there
        assertSameStep(net -> frozenUpTo(net, "block3b_add"), 6, 64);
    }

    @Test
    void frozenUpToABatchNormTrainsLikeFit() {
        // the boundary inside a block: block2b_dwconv onwards train, the skip connection of block2b_add is frozen
        assertSameStep(net -> frozenUpTo(net, "block2b_expand_activation"), 4, 64);
    }

    @Test
    void aNewHeadOnTheFrozenNetworkTrainsLikeFit() {
        assertSameStep(OneDnnFrozenTrainingTest::newHead, 6, 64);
    }

    /**
     * A batch norm on the pooled features (the examples' frozen-backbone head) is left to DL4J, saying so: oneDNN's
     * float32 batch statistics of features with a small spread about a large mean missed the float64 loss or logits
     * by 4-13 times DL4J's float32 error in 3 of 12 batch sizes.
     */
    @Test
    void aBatchNormHeadOnThePooledFeaturesTrainsInDl4j() {
        ComputationGraph net = withBatchNormHead(base(32));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OneDnnTraining.of(net));
        assertTrue(e.getMessage().contains("'head_bn'") && e.getMessage().contains("[N, C]"), e.getMessage());
        List<String> notes = new ArrayList<>();
        assertEquals(Engine.DL4J, Engines.choose(net, Engine.AUTO, true, notes::add));
        assertTrue(notes.size() == 1 && notes.get(0).contains("head_bn"), notes.toString());
    }

    @Test
    void aFrozenDenseLayerBelowANewHeadTrainsLikeFit() {
        assertSameStep(net -> frozenUpTo(withDenseHead(net), "fc"), 4, 64);
    }

    /** Only the ops that a trainable op feeds (and the trainable ones) get backward steps. */
    @Test
    void frozenOpsGetNoBackwardSteps() {
        ComputationGraph whole = base(32);
        ComputationGraph head = newHead(base(32));
        ComputationGraph fromBlock4 = frozenUpTo(base(32), "block3b_add");
        LoweredNetwork lowered = GraphLowering.lowerForTraining(head);
        assertTrue(lowered.frozen().contains("stem_conv") && lowered.frozen().contains("top_activation"),
                lowered.frozen().toString());
        assertFalse(lowered.frozen().contains("predictions") || lowered.frozen().contains("avg_pool"));
        assertTrue(GraphLowering.lowerForTraining(whole).frozen().isEmpty());
        List<String> notes = new ArrayList<>();
        assertEquals(Engine.ONEDNN, Engines.choose(head, Engine.AUTO, true, notes::add), notes.toString());
        assertEquals(Engine.ONEDNN, Engines.choose(fromBlock4, Engine.AUTO, true, notes::add), notes.toString());

        long[] shape = {4, 3, 32, 32};
        List<String> all = backwardSteps(whole, shape);
        List<String> onlyHead = backwardSteps(head, shape);
        List<String> top = backwardSteps(fromBlock4, shape);
        assertTrue(onlyHead.stream().allMatch(s -> s.startsWith("predictions ")), onlyHead.toString());
        assertFalse(onlyHead.isEmpty());
        assertTrue(top.size() < all.size(), top.size() + " of " + all.size());
        assertTrue(top.stream().noneMatch(s -> s.startsWith("block3") || s.startsWith("stem")), top.toString());
        // block4a's expand convolution computes its weight gradient but not its input's
        assertEquals(convolutions(all, "block4a_expand_conv") - 1, convolutions(top, "block4a_expand_conv"),
                top.toString());
        assertEquals(1, convolutions(top, "block4a_expand_conv"), top.toString());
        System.out.printf("backward steps: %d unfrozen, %d from block 4, %d for a new head%n", all.size(), top.size(),
                onlyHead.size());
    }

    private static long convolutions(List<String> steps, String op) {
        return steps.stream().filter(s -> s.startsWith(op + " (backward): convolution")).count();
    }

    private static List<String> backwardSteps(ComputationGraph net, long... shape) {
        try (OneDnnTraining training = OneDnnTraining.of(net)) {
            return training.implementations(shape).stream().filter(s -> s.contains(" (backward): ")).toList();
        }
    }

    /** DL4J's FrozenLayer passes no gradient to its input; a frozen layer reading a trainable one is refused. */
    @Test
    void aFrozenLayerReadingATrainableOneIsRefused() {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().updater(new Sgd(0.1)).seed(1)
                .graphBuilder().addInputs("in").setInputTypes(InputType.convolutional(8, 8, 3))
                .addLayer("c1", new ConvolutionLayer.Builder(3, 3).nIn(3).nOut(4)
                        .convolutionMode(ConvolutionMode.Same).activation(Activation.IDENTITY).build(), "in")
                .addLayer("c2", new FrozenLayer(new ConvolutionLayer.Builder(3, 3).nIn(4).nOut(4)
                        .convolutionMode(ConvolutionMode.Same).activation(Activation.IDENTITY).build()), "c1")
                .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "c2")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(4).nOut(2)
                        .activation(Activation.SOFTMAX).build(), "pool")
                .setOutputs("out").build();
        ComputationGraph net = new ComputationGraph(conf);
        net.init();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OneDnnTraining.of(net));
        assertTrue(e.getMessage().contains("'c2'") && e.getMessage().contains("'c1'")
                && e.getMessage().contains("frozen") && !e.getMessage().contains("\n"), e.getMessage());
        List<String> notes = new ArrayList<>();
        assertEquals(Engine.DL4J, Engines.choose(net, Engine.AUTO, true, notes::add));
        assertEquals(1, notes.size());
        assertInstanceOf(LoweredNetwork.class, GraphLowering.lower(net), "inference does not care");
    }

    /**
     * The notebook's fine-tuning, small: a trained classifier (running statistics of its own training, dropout and
     * drop-path on) frozen below a late block, the rest trained for many steps, with a last batch of another size
     * (a second plan). Every loss, parameter and running statistic stays finite, and the frozen ones do not move.
     */
    @Test
    void fineTuningStaysFiniteOverManySteps() {
        ComputationGraph classifier = EfficientNet.builder().phi(-3).resolution(32).numClasses(CLASSES)
                .updater(new org.nd4j.linalg.learning.config.Adam(3e-3)).dropoutRate(0.2).dropPathRate(0.2).seed(5)
                .build().init();
        Nd4j.getRandom().setSeed(11);
        INDArray x = Nd4j.randn(DataType.FLOAT, 18, 3, 32, 32);
        INDArray y = OneDnnTrainingTest.oneHot(18, CLASSES);
        try (OneDnnTraining training = OneDnnTraining.of(classifier)) {
            for (int i = 0; i < 10; i++) { // running statistics of its own, as a trained backbone has
                training.fit(x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 8)),
                        y.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 8)));
            }
        }
        for (String from : List.of("block5", "block6", "block7", "top_conv")) {
            ComputationGraph net = new TransferLearning.GraphBuilder(classifier.clone())
                    .fineTuneConfiguration(new FineTuneConfiguration.Builder()
                            .updater(new org.nd4j.linalg.learning.config.Adam(1e-3)).seed(42L).build())
                    .setFeatureExtractor(inputOf(classifier, from))
                    .nOutReplace("predictions", 3, WeightInit.XAVIER).build();
            List<String> frozen = frozenLayers(net);
            Map<String, INDArray> frozenStart = new HashMap<>();
            frozen.forEach(name -> frozenStart.put(name, net.getLayer(name).params().dup()));
            INDArray y3 = OneDnnTrainingTest.oneHot(18, 3);
            try (OneDnnTraining training = OneDnnTraining.of(net)) {
                for (int step = 0; step < 12; step++) {
                    // 8 + 8 + 2: two batch sizes, two plans, as an epoch's last batch makes them
                    int start = (step % 3) * 8;
                    int end = Math.min(start + 8, 18);
                    double loss = training.fit(x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(start, end)),
                            y3.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(start, end)));
                    assertTrue(Double.isFinite(loss), "from " + from + ", step " + step + ": loss " + loss);
                    assertTrue(finite(net.params()), "from " + from + ", step " + step + ": parameters");
                }
            }
            for (String name : frozen) {
                assertEquals(frozenStart.get(name), net.getLayer(name).params(), "from " + from + ": frozen " + name);
            }
            assertTrue(finite(net.outputSingle(false, x)), "from " + from + ": predictions");
        }
    }

    private static boolean finite(INDArray a) {
        for (double v : a.castTo(DataType.DOUBLE).reshape(a.length()).toDoubleVector()) {
            if (!Double.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    /** The vertex feeding the first vertex whose name starts with {@code prefix}. */
    private static String inputOf(ComputationGraph net, String prefix) {
        for (int i : net.topologicalSortOrder()) {
            String name = net.getVertices()[i].getVertexName();
            if (name.startsWith(prefix)) {
                return net.getConfiguration().getVertexInputs().get(name).get(0);
            }
        }
        throw new IllegalArgumentException(prefix);
    }

    /** Step time of the examples' fast-mode shape (batch 16, 32 px) in oneDNN and in {@code fit}, for the log only. */
    @Test
    void stepTimeOfTheExamplesFastShape() {
        for (String what : new String[] {"unfrozen", "new head", "from block 4"}) {
            ComputationGraph net = switch (what) {
                case "unfrozen" -> base(32);
                case "new head" -> newHead(base(32));
                default -> frozenUpTo(base(32), "block3b_add");
            };
            Nd4j.getRandom().setSeed(1);
            INDArray x = Nd4j.randn(DataType.FLOAT, 16, 3, 32, 32);
            INDArray y = OneDnnTrainingTest.oneHot(16, (int) net.getLayer("predictions").getParam("b").length());
            try (OneDnnTraining training = OneDnnTraining.of(net)) {
                training.fit(x, y);
                long t0 = System.nanoTime();
                for (int i = 0; i < 5; i++) {
                    training.fit(x, y);
                }
                System.out.printf("oneDNN step, batch 16 at 32 px, %s: %.1f ms%n", what,
                        (System.nanoTime() - t0) / 5e6);
            }
            net.fit(new INDArray[] {x}, new INDArray[] {y});
            long t0 = System.nanoTime();
            for (int i = 0; i < 5; i++) {
                net.fit(new INDArray[] {x}, new INDArray[] {y});
            }
            System.out.printf("DL4J fit step, batch 16 at 32 px, %s: %.1f ms%n", what, (System.nanoTime() - t0) / 5e6);
        }
    }
}
