package io.efficientnet.core.weights;

import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.model.Variant;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * PyTorch weight import against PyTorch's own outputs: the files used here come from
 * {@code scripts/make-pytorch-references.py} (a torchvision EfficientNet at width 0.25, depth 0.34, 10 classes,
 * random weights and batch-norm statistics). {@code efficientnet-tiny-timm.safetensors} holds the same tensors renamed
 * to timm's names by that script, not written by timm; its {@code tf_same} outputs are torchvision's network with TF
 * "SAME" padding and ε 1e-3 applied by the script (timm's own {@code efficientnet_b0} and {@code tf_efficientnet_b0}
 * compute the same float64 outputs from these tensors). The files written with timm's own model code are tested in
 * {@link TimmImportTest}. The expected outputs were computed by PyTorch in float64 from the float32 weights.
 */
@Tag("numeric")
class PyTorchImportTest {

    static JsonNode expected;
    static INDArray input;

    @BeforeAll
    static synchronized void references() throws Exception {
        if (input != null) {
            return;
        }
        expected = new ObjectMapper().readTree(Files.readString(resource("efficientnet-tiny-expected.json")));
        byte[] raw = Files.readAllBytes(resource("efficientnet-tiny-input.f32"));
        float[] values = new float[raw.length / 4];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        long[] shape = new long[4];
        for (int i = 0; i < 4; i++) {
            shape[i] = expected.get("input_shape").get(i).asLong();
        }
        input = Nd4j.createFromArray(values).reshape(shape);
    }

    static Path resource(String name) throws Exception {
        return Path.of(PyTorchImportTest.class.getClassLoader().getResource("pytorch/" + name).toURI());
    }

    /** The script's network: B0's table at its width and depth multipliers. */
    static EfficientNet.Builder tiny() throws Exception {
        references();
        return EfficientNet.builder().variant(Variant.B0).widthMultiplier(expected.get("width").asDouble())
                .depthMultiplier(expected.get("depth").asDouble()).resolution(expected.get("resolution").asInt());
    }

    /**
     * The float32 network reproduces PyTorch's float64 probabilities (≤ 1) to 1e-5: the two differ by float32
     * rounding over ~40 layers (up to about 5e-6 for these networks, a few times PyTorch's own float32 error; DL4J
     * keeps the batch-norm variance as log10(√var) in float32, so a float64 DL4J network does no better), while a
     * mapping mistake (a transposed kernel, padding side, ε) is off by 1e-3 or more.
     */
    static void assertReproduces(ComputationGraph net, String reference) {
        assertReproduces(net, expected.get(reference).get("probabilities"), reference);
    }

    /** {@link #assertReproduces(ComputationGraph, String)} against {@code p}, float64 probabilities by sample. */
    static void assertReproduces(ComputationGraph net, JsonNode p, String reference) {
        INDArray exact = probabilities(p);
        INDArray actual = net.outputSingle(input).castTo(DataType.DOUBLE);
        double error = actual.sub(exact).amaxNumber().doubleValue();
        assertTrue(error < 1e-5, reference + ": probabilities differ from PyTorch's by " + error);
        assertEquals(exact.argMax(1), actual.argMax(1));
    }

    /** The largest absolute difference between the network's probabilities and {@code p}. */
    static double probabilityError(ComputationGraph net, JsonNode p) {
        return net.outputSingle(input).castTo(DataType.DOUBLE).sub(probabilities(p)).amaxNumber().doubleValue();
    }

    private static INDArray probabilities(JsonNode p) {
        double[] flat = new double[p.size()];
        for (int i = 0; i < flat.length; i++) {
            flat[i] = p.get(i).asDouble();
        }
        return Nd4j.createFromArray(flat).reshape(input.size(0), -1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"efficientnet-tiny-torchvision.pth", "efficientnet-tiny-torchvision.safetensors"})
    void torchvisionFilesReproducePyTorch(String file) throws Exception {
        PyTorchWeights w = PyTorchWeights.load(resource(file));
        assertEquals(PyTorchFamily.TORCHVISION, w.family());
        assertTrue(w.description().startsWith("detected torchvision") && w.description().contains("symmetric padding")
                && w.description().contains("eps 1e-5"), w.description());
        assertEquals(10, w.numClasses());
        ComputationGraph net = tiny().matching(w).build().init();
        KerasWeightImporter.Result r = w.importInto(net, "b0");
        assertEquals(net.numParams(), r.valuesLoaded());
        assertReproduces(net, "symmetric");
    }

    @Test
    void timmNamesReproducePlainTimmAndTfEfficientNet() throws Exception {
        Path file = resource("efficientnet-tiny-timm.safetensors");
        PyTorchWeights timm = PyTorchWeights.load(file);
        assertEquals(PyTorchFamily.TIMM, timm.family(), "timm names are taken as plain timm");
        assertTrue(timm.description().contains("timm-tf"), "the message says how to choose tf_: " + timm.description());
        ComputationGraph net = tiny().matching(timm).build().init();
        timm.importInto(net, "b0");
        assertReproduces(net, "symmetric");

        PyTorchWeights tf = PyTorchWeights.load(file, PyTorchFamily.TIMM_TF);
        assertTrue(tf.description().startsWith("timm-tf") && tf.description().contains("TF-SAME padding, batch-norm "
                + "eps 1e-3"), tf.description());
        ComputationGraph tfNet = tiny().matching(tf).build().init();
        tf.importInto(tfNet, "b0");
        assertReproduces(tfNet, "tf_same");

        IOException e = assertThrows(IOException.class, () -> tf.importInto(net, "b0"));
        assertTrue(e.getMessage().contains("built with symmetric padding") && e.getMessage().contains("matching(weights)"),
                e.getMessage());
    }

    @Test
    void pthAndSafetensorsGiveTheSameNetwork() throws Exception {
        PyTorchWeights pth = PyTorchWeights.load(resource("efficientnet-tiny-torchvision.pth"));
        PyTorchWeights st = PyTorchWeights.load(resource("efficientnet-tiny-torchvision.safetensors"));
        ComputationGraph a = tiny().matching(pth).build().init();
        ComputationGraph b = tiny().seed(99).matching(st).build().init();
        pth.importInto(a, "b0");
        st.importInto(b, "b0");
        assertEquals(a.params(), b.params());
    }
}
