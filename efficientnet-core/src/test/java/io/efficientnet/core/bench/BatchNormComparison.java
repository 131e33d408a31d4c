package io.efficientnet.core.bench;

import io.efficientnet.core.inference.BatchNormTestSupport;
import io.efficientnet.core.layers.FastBatchNormalization;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * DL4J's {@code BatchNormalization} against {@link FastBatchNormalization}, forward + backward, float32 NCHW,
 * alternating the two in every round so that both see the same machine load. Two set-ups per shape:
 * <ul>
 *   <li>{@code fit}: one {@code ComputationGraph.fit} of input → batch norm → global average pooling → softmax
 *   output (workspaces ENABLED, plain SGD), i.e. batch norm as the network runs it, plus a pooling/loss overhead
 *   that is the same for both;</li>
 *   <li>{@code layer}: the layer alone, {@code activate(true)} + {@code backpropGradient}, without workspaces (every
 *   array is a fresh allocation).</li>
 * </ul>
 * Prints, per shape and set-up, the median over rounds of each round's median time, the min–max of the round medians
 * and the ratio DL4J / fast. Run (after {@code mvn -pl efficientnet-core test-compile}) with {@code bench/batchnorm.sh
 * [rounds] [iterations per round] [shapes...]}.
 */
public final class BatchNormComparison {

    private static final String[] DEFAULT_SHAPES = {"8x96x112x112", "8x32x112x112", "8x144x56x56", "8x1152x7x7"};

    private BatchNormComparison() {
    }

    /** A timed action: one forward + backward of one implementation. */
    private interface Step {
        void run();
    }

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int iterations = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        String[] shapes = args.length > 2 ? Arrays.copyOfRange(args, 2, args.length) : DEFAULT_SHAPES;
        System.out.printf(Locale.ROOT, "rounds %d, iterations per round %d, OMP_NUM_THREADS=%s%n", rounds, iterations,
                System.getenv("OMP_NUM_THREADS"));
        System.out.println("| shape | set-up | DL4J ms median (min-max) | fast ms median (min-max) | DL4J / fast |");
        System.out.println("|---|---|---|---|---|");
        for (String shape : shapes) {
            long[] s = Arrays.stream(shape.split("x")).mapToLong(Long::parseLong).toArray();
            Nd4j.getRandom().setSeed(42);
            INDArray x = Nd4j.randn(DataType.FLOAT, s).muli(2).addi(0.5);
            INDArray dy = Nd4j.randn(DataType.FLOAT, s);
            INDArray labels = Nd4j.zeros(DataType.FLOAT, s[0], 2);
            labels.getColumn(0).assign(1);
            ComputationGraph gDl4j = graph(false, s);
            ComputationGraph gFast = graph(true, s);
            compare(shape, "fit", rounds, iterations,
                    () -> gDl4j.fit(new INDArray[] {x}, new INDArray[] {labels}),
                    () -> gFast.fit(new INDArray[] {x}, new INDArray[] {labels}));
            Layer lDl4j = layer(false, (int) s[1]);
            Layer lFast = layer(true, (int) s[1]);
            compare(shape, "layer", rounds, iterations, () -> forwardBackward(lDl4j, x, dy),
                    () -> forwardBackward(lFast, x, dy));
        }
    }

    private static void compare(String shape, String setup, int rounds, int iterations, Step dl4j, Step fast) {
        for (int i = 0; i < 2; i++) { // warm-up: JIT, workspace sizing
            dl4j.run();
            fast.run();
        }
        List<Double> a = new ArrayList<>();
        List<Double> b = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            boolean dl4jFirst = r % 2 == 0;
            double t1 = medianMs(dl4jFirst ? dl4j : fast, iterations);
            double t2 = medianMs(dl4jFirst ? fast : dl4j, iterations);
            a.add(dl4jFirst ? t1 : t2);
            b.add(dl4jFirst ? t2 : t1);
        }
        double ma = median(a);
        double mb = median(b);
        System.out.printf(Locale.ROOT, "| %s | %s | %.1f (%.1f-%.1f) | %.1f (%.1f-%.1f) | %.1f× |%n", shape, setup, ma,
                min(a), max(a), mb, min(b), max(b), ma / mb);
    }

    private static double medianMs(Step step, int iterations) {
        List<Double> t = new ArrayList<>();
        for (int i = 0; i < iterations; i++) {
            long start = System.nanoTime();
            step.run();
            t.add((System.nanoTime() - start) / 1e6);
        }
        return median(t);
    }

    private static double median(List<Double> v) {
        List<Double> s = new ArrayList<>(v);
        s.sort(null);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    private static double min(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    private static double max(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }

    private static BatchNormalization conf(boolean fast, int channels) {
        return fast ? new FastBatchNormalization(channels, 1e-3, 0.99)
                : new BatchNormalization.Builder().nIn(channels).nOut(channels).eps(1e-3).decay(0.99).build();
    }

    static ComputationGraph graph(boolean fast, long[] s) {
        InputType input = InputType.convolutional(s[2], s[3], s[1]);
        return BatchNormTestSupport.batchNormClassifier(conf(fast, (int) s[1]), input, 2, WorkspaceMode.ENABLED, 1, 1e-3);
    }

    static Layer layer(boolean fast, int channels) {
        BatchNormalization bn = conf(fast, channels);
        NeuralNetConfiguration nnc = new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT).layer(bn).build();
        long n = bn.initializer().numParams(nnc);
        Layer l = nnc.getLayer().instantiate(nnc, null, 0, Nd4j.create(DataType.FLOAT, 1, n), true,
                DataType.FLOAT);
        l.setBackpropGradientsViewArray(Nd4j.create(DataType.FLOAT, 1, n));
        return l;
    }

    static INDArray forwardBackward(Layer l, INDArray x, INDArray dy) {
        LayerWorkspaceMgr ws = LayerWorkspaceMgr.noWorkspaces();
        l.setInput(x, ws);
        l.activate(true, ws);
        return l.backpropGradient(dy, ws).getSecond();
    }
}
