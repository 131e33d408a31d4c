package io.efficientnet.core.kernels;

import io.efficientnet.core.EfficientNet;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code -D}{@value SwishKernels#DISABLE_PROPERTY}{@code =true} turns the Vector API kernels off and the layers fall
 * back to ND4J's operations with the same results: a small EfficientNet's training-mode logits and gradient of every
 * parameter (swish, batch norm with and without fused swish, squeeze-excitation scaling, global pooling, the depthwise
 * weight gradient) and its inference logits, computed once in this JVM (kernels on) and once in a child JVM with the
 * property (the flag is read once per JVM), are equally close to a float64 run of the same network.
 */
@Tag("numeric")
class VectorKernelsDisabledTest {

    /** Longest wait for the child JVM (it takes seconds): past it the child is taken to hang. */
    private static final long CHILD_TIMEOUT_MINUTES = 5;

    /** float32's unit roundoff, 2⁻²⁴. */
    private static final double U = Math.ulp(1f) / 2;

    private static final String[] NAMES = {"training logits", "gradient", "inference logits"};

    /**
     * The output layer's pre-softmax values of a training-mode pass (batch statistics) of {@code net} on {@code x},
     * the gradient of every parameter from that pass on {@code x}, {@code y}, and the pre-softmax values at inference
     * (running statistics), all as float64. The loss is left out: the same ND4J code computes it from the training
     * logits on both paths, with derivatives summing to at most 2 in absolute value, so it moves by at most twice their
     * largest error; and a single value can land next to float64 by chance, which makes a poor measure of the error.
     */
    static INDArray[] results(ComputationGraph net, INDArray x, INDArray y) {
        INDArray training = logits(net, x, true);
        net.setInputs(x);
        net.setLabels(y);
        net.computeGradientAndScore();
        INDArray gradient = net.getFlattenedGradients().castTo(DataType.DOUBLE).reshape(-1);
        net.clearLayersStates();
        return new INDArray[] {training, gradient, logits(net, x, false)};
    }

    private static INDArray logits(ComputationGraph net, INDArray x, boolean training) {
        java.util.Map<String, INDArray> activations = net.feedForward(x, training);
        net.clearLayersStates();
        String head = net.getConfiguration().getNetworkOutputs().get(0);
        String input = net.getConfiguration().getVertexInputs().get(head).get(0);
        return activations.get(input).castTo(DataType.DOUBLE).reshape(x.size(0), -1)
                .mmul(net.getLayer(head).getParam("W").castTo(DataType.DOUBLE))
                .addRowVector(net.getLayer(head).getParam("b").castTo(DataType.DOUBLE).reshape(-1));
    }

    /** The child JVM: {@code dir} holds the model and inputs; the flag and the results are written there. */
    public static final class Child {
        public static void main(String[] args) throws IOException {
            Path dir = Path.of(args[0]);
            ComputationGraph net = ModelSerializer.restoreComputationGraph(dir.resolve("net.zip").toFile(), false);
            INDArray x = Nd4j.readBinary(dir.resolve("x.bin").toFile());
            INDArray y = Nd4j.readBinary(dir.resolve("y.bin").toFile());
            INDArray[] r = results(net, x, y);
            for (int i = 0; i < r.length; i++) {
                Nd4j.saveBinary(r[i], dir.resolve("result" + i + ".bin").toFile());
            }
            Files.writeString(dir.resolve("available.txt"), Boolean.toString(SwishKernels.available()));
            System.exit(0);
        }
    }

    @Test
    void disabledKernelsGiveTheSameResultsThroughNd4j(@TempDir Path dir) throws Exception {
        assertTrue(SwishKernels.available(), "the test JVM runs the Vector API kernels");
        // 64 px and 4 examples: the last stages' 2×2 maps give batch norm 16 values per channel, a well-posed gradient
        ComputationGraph net = EfficientNet.builder().phi(-3).resolution(64).numClasses(5).updater(new Sgd(0.01))
                .dropoutRate(0).dropPathRate(0).seed(3).build().init();
        Nd4j.getRandom().setSeed(8);
        INDArray x = Nd4j.randn(DataType.FLOAT, 4, 3, 64, 64);
        INDArray y = Nd4j.eye(5).castTo(DataType.FLOAT).getRows(0, 3, 1, 4);
        ModelSerializer.writeModel(net, dir.resolve("net.zip").toFile(), false);
        Nd4j.saveBinary(x, dir.resolve("x.bin").toFile());
        Nd4j.saveBinary(y, dir.resolve("y.bin").toFile());

        runChild(dir);
        assertEquals("false", Files.readString(dir.resolve("available.txt")),
                "the child JVM with -D" + SwishKernels.DISABLE_PROPERTY + "=true still used the kernels");
        ComputationGraph exact = net.convertDataType(DataType.DOUBLE);
        INDArray[] reference = results(exact, x.castTo(DataType.DOUBLE), y.castTo(DataType.DOUBLE));
        INDArray[] vector = results(net, x, y);
        for (int i = 0; i < NAMES.length; i++) {
            INDArray nd4j = Nd4j.readBinary(dir.resolve("result" + i + ".bin").toFile());
            double scale = reference[i].amaxNumber().doubleValue();
            double vectorError = vector[i].sub(reference[i]).amaxNumber().doubleValue() / scale;
            double nd4jError = nd4j.sub(reference[i]).amaxNumber().doubleValue() / scale;
            // Both float32 paths round alike and differ in the order of their sums, so neither is expected to be
            // closer to float64: each within 3× the other's error (the largest over many values, so neither is small
            // by chance), plus 32 roundings should both be at the float32 floor. A kernel computing something else
            // is off by far more.
            assertTrue(vectorError <= 3 * nd4jError + 32 * U && nd4jError <= 3 * vectorError + 32 * U,
                    NAMES[i] + ": error against float64 with the kernels " + vectorError + ", through ND4J "
                            + nd4jError);
        }
    }

    /** Runs {@link Child} in a JVM with this one's options and the property, both streams to files, bounded. */
    private static void runChild(Path dir) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!option.startsWith("-agentlib:jdwp") && !option.startsWith("-Xrunjdwp")) {
                cmd.add(option); // a debugger's port cannot be opened twice
            }
        }
        cmd.add("-D" + SwishKernels.DISABLE_PROPERTY + "=true");
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Child.class.getName(), dir.toString()));
        File out = dir.resolve("child.out").toFile();
        File err = dir.resolve("child.err").toFile();
        Process p = new ProcessBuilder(cmd).redirectOutput(out).redirectError(err).start();
        if (!p.waitFor(CHILD_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
            p.destroyForcibly().waitFor();
            fail("the child JVM did not finish within " + CHILD_TIMEOUT_MINUTES + " minutes; " + tail(out) + tail(err));
        }
        assertEquals(0, p.exitValue(), "child JVM " + cmd + " failed: " + tail(out) + tail(err));
    }

    private static String tail(File f) throws IOException {
        String s = new String(Files.readAllBytes(f.toPath()), StandardCharsets.UTF_8);
        return "\n" + f.getName() + ":\n" + s.substring(Math.max(0, s.length() - 4000));
    }
}
