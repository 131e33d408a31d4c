package io.efficientnet.cli;

import io.efficientnet.core.weights.ModelZip;
import io.efficientnet.train.TestImages;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code --engine} of predict and evaluate: auto runs oneDNN, or DL4J with a note where oneDNN cannot run the network;
 * onednn refuses such a network with a one-line error; dl4j runs DL4J.
 */
class EngineChoiceTest {

    private static final String POOL_REASON = "vertex 'pool': the oneDNN engine does not run SubsamplingLayer";
    private static final String DOUBLE_REASON = "the network is DOUBLE; the oneDNN engine runs float32";

    @TempDir
    static Path dir;
    static Path data;
    static Path image;
    /** conv, global pooling, softmax: oneDNN runs it. */
    static Path plain;
    /** the same with a max-pooling layer after the convolution, which oneDNN's engine does not run. */
    static Path maxPool;
    /** the plain network in float64. */
    static Path float64;

    @BeforeAll
    static void models() throws Exception {
        data = dir.resolve("shapes");
        TestImages.writeFolder(data, 5, 7); // 5 images of each of the 3 classes
        image = data.resolve(TestImages.CLASSES.get(0)).resolve("000.png");
        plain = save(net(false), "plain.zip");
        maxPool = save(net(true), "max-pool.zip");
        float64 = save(net(false).convertDataType(DataType.DOUBLE), "float64.zip");
    }

    private static ComputationGraph net(boolean maxPooling) {
        ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder().seed(3)
                .convolutionMode(ConvolutionMode.Same).graphBuilder().addInputs("in")
                .addLayer("conv", new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.IDENTITY).build(),
                        "in");
        String last = "conv";
        if (maxPooling) {
            g.addLayer("pool", new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build(),
                    "conv");
            last = "pool";
        }
        g.addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), last)
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "gap")
                .setOutputs("out").setInputTypes(InputType.convolutional(32, 32, 3));
        ComputationGraph net = new ComputationGraph(g.build());
        net.init();
        return net;
    }

    private static Path save(ComputationGraph net, String name) throws Exception {
        Path zip = dir.resolve(name);
        ModelZip.write(net, zip, false, null, ModelZip.describe(new int[] {3, 32, 32}, 0.875, TestImages.CLASSES));
        return zip;
    }

    private static Object[] run(String... args) {
        return SummaryCommandTest.run(args);
    }

    private static JsonNode json(Object[] r) throws Exception {
        assertEquals(0, r[0], (String) r[2]);
        return new ObjectMapper().readTree((String) r[1]);
    }

    private static List<String> lines(Object r) {
        return new ArrayList<>(((String) r).strip().lines().toList());
    }

    @Test
    void predictRunsOneDnnByDefaultAndDl4jWhenAsked() throws Exception {
        Object[] r = run("predict", "--model", plain.toString(), "--json", image.toString());
        JsonNode j = json(r);
        assertTrue(j.get("engine").asText().startsWith("oneDNN "), j.toString());
        assertFalse(((String) r[2]).contains("note:"), (String) r[2]);
        assertEquals(3, j.get("results").get(0).get("top").size(), "all three classes ranked");

        r = run("predict", "--model", plain.toString(), "--json", "--engine", "dl4j", image.toString());
        assertEquals("DL4J", json(r).get("engine").asText());
        assertFalse(((String) r[2]).contains("note:"), "asked for, so nothing to explain: " + r[2]);
    }

    @Test
    void predictFallsBackToDl4jWithANoteOrFailsUnderEngineOneDnn() throws Exception {
        for (String[] c : new String[][] {{maxPool.toString(), POOL_REASON}, {float64.toString(), DOUBLE_REASON}}) {
            Object[] r = run("predict", "--model", c[0], "--json", image.toString());
            JsonNode j = json(r);
            assertEquals("DL4J", j.get("engine").asText(), j.toString());
            assertEquals(List.of("note: inference runs in DL4J (" + c[1] + ")"), lines(r[2]));
            assertEquals(3, j.get("results").get(0).get("top").size());
            assertEquals(0, j.get("failed").asInt());

            r = run("predict", "--model", c[0], "--engine", "onednn", image.toString());
            assertEquals(2, r[0]);
            assertEquals(List.of("error: the oneDNN engine cannot run this network's inference: " + c[1]), lines(r[2]),
                    "one line naming the reason");
            assertEquals("", r[1], "no results");
        }
    }

    @Test
    void evaluateChoosesTheSameWay() throws Exception {
        JsonNode j = json(run("evaluate", "--model", plain.toString(), "--data", data.toString(), "--json"));
        assertTrue(j.get("engine").asText().startsWith("oneDNN "), j.toString());
        assertEquals(15, j.get("count").asInt());

        Object[] r = run("evaluate", "--model", plain.toString(), "--data", data.toString(), "--json", "--engine",
                "dl4j");
        assertEquals("DL4J", json(r).get("engine").asText());
        assertFalse(((String) r[2]).contains("note:"), (String) r[2]);

        r = run("evaluate", "--model", maxPool.toString(), "--data", data.toString(), "--json");
        j = json(r);
        assertEquals("DL4J", j.get("engine").asText());
        assertEquals(15, j.get("count").asInt());
        assertEquals(List.of("note: inference runs in DL4J (" + POOL_REASON + ")"), lines(r[2]));

        r = run("evaluate", "--model", maxPool.toString(), "--data", data.toString(), "--engine", "onednn");
        assertEquals(2, r[0]);
        assertEquals(List.of("error: the oneDNN engine cannot run this network's inference: " + POOL_REASON),
                lines(r[2]));
    }
}
