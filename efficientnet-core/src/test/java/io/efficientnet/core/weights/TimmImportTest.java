package io.efficientnet.core.weights;

import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.model.Padding;
import io.efficientnet.core.model.Variant;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static io.efficientnet.core.weights.PyTorchImportTest.assertReproduces;
import static io.efficientnet.core.weights.PyTorchImportTest.resource;
import static io.efficientnet.core.weights.PyTorchImportTest.tiny;
import static org.junit.jupiter.api.Assertions.*;

/**
 * timm weight import against timm's own model code. Unlike {@code efficientnet-tiny-timm.safetensors} (torchvision
 * tensors renamed to timm's names, see {@link PyTorchImportTest}), these files were written by
 * {@code scripts/make-timm-references.py} from networks built by timm itself (the version and commit are in the
 * json files):
 * <ul>
 *   <li>{@code efficientnet-tiny-timm-real.safetensors} and {@code efficientnet-tiny-timm-tf-real.safetensors}:
 *       the state_dicts of timm's {@code efficientnet_b0} and {@code tf_efficientnet_b0} generators at width 0.25,
 *       depth 0.34 and 10 classes, random weights and batch-norm statistics;</li>
 *   <li>{@code efficientnet-tiny-timm-expected.json}: timm's float64 forward of each on
 *       {@code efficientnet-tiny-input.f32}, and the settings timm built it with;</li>
 *   <li>{@code efficientnet-b0-timm-tensors.json}: the tensor names, shapes and dtypes of timm's full-size
 *       {@code efficientnet_b0} and {@code tf_efficientnet_b0}.</li>
 * </ul>
 */
@Tag("numeric")
class TimmImportTest {

    static JsonNode expected;

    @TempDir
    Path dir;

    @BeforeAll
    static void references() throws Exception {
        PyTorchImportTest.references();
        expected = new ObjectMapper().readTree(Files.readString(resource("efficientnet-tiny-timm-expected.json")));
    }

    /** The network the weights ask for reproduces timm's probabilities, and the settings are the ones timm used. */
    private static ComputationGraph reproduce(PyTorchWeights w, String model) throws Exception {
        assertEquals(10, w.numClasses());
        assertSettings(w.family(), expected.get(model));
        ComputationGraph net = tiny().matching(w).build().init();
        KerasWeightImporter.Result r = w.importInto(net, "b0");
        assertEquals(net.numParams(), r.valuesLoaded());
        assertReproduces(net, expected.get(model).get("probabilities"), "timm " + model);
        return net;
    }

    /** The family's padding and ε are those of timm's model: eps, and Conv2dSame for TF "SAME" padding. */
    private static void assertSettings(PyTorchFamily family, JsonNode model) {
        assertEquals(1, model.get("bn_eps").size());
        assertEquals(model.get("bn_eps").get(0).asDouble(), family.batchNormEpsilon(Variant.B0), 1e-12);
        boolean same = false;
        for (JsonNode c : model.get("conv_classes")) {
            same |= c.asText().equals("Conv2dSame");
        }
        assertEquals(same, family.padding() == Padding.SAME, family + " " + model);
    }

    @Test
    void timmEfficientNetIsDetectedAndReproduced() throws Exception {
        PyTorchWeights w = PyTorchWeights.load(resource("efficientnet-tiny-timm-real.safetensors"));
        assertEquals(PyTorchFamily.TIMM, w.family());
        assertTrue(w.description().startsWith("detected timm") && w.description().contains("symmetric padding")
                && w.description().contains("eps 1e-5"), w.description());
        reproduce(w, "efficientnet_b0");
    }

    @Test
    void tfEfficientNetNeedsTheTimmTfFamily() throws Exception {
        Path file = resource("efficientnet-tiny-timm-tf-real.safetensors");
        PyTorchWeights detected = PyTorchWeights.load(file);
        assertEquals(PyTorchFamily.TIMM, detected.family(), "tf_ names are timm's: a file cannot tell them apart");
        assertTrue(detected.description().contains("choose the timm-tf family"), detected.description());
        ComputationGraph plain = tiny().matching(detected).build().init();
        detected.importInto(plain, "b0");
        double off = PyTorchImportTest.probabilityError(plain, expected.get("tf_efficientnet_b0").get("probabilities"));
        assertTrue(off > 1e-3, "as plain timm the tf_ weights are off by " + off);

        PyTorchWeights tf = PyTorchWeights.load(file, PyTorchFamily.TIMM_TF);
        assertTrue(tf.description().startsWith("timm-tf") && tf.description().contains("TF-SAME padding, batch-norm "
                + "eps 1e-3"), tf.description());
        reproduce(tf, "tf_efficientnet_b0");
    }

    /**
     * Every tensor of timm's full-size B0s has a place in this project's B0 and every parameter of the network gets
     * a value: a safetensors file with timm's names and shapes (values zero) loads completely.
     */
    @Test
    void fullSizeTimmTensorNamesAllMap() throws Exception {
        JsonNode models = new ObjectMapper().readTree(Files.readString(resource("efficientnet-b0-timm-tensors.json")))
                .get("models");
        for (String model : new String[] {"efficientnet_b0", "tf_efficientnet_b0"}) {
            PyTorchFamily family = model.startsWith("tf_") ? PyTorchFamily.TIMM_TF : PyTorchFamily.TIMM;
            assertSettings(family, models.get(model).get("settings"));
            Map<String, TorchTensor> tensors = new LinkedHashMap<>();
            for (JsonNode t : models.get(model).get("tensors")) {
                long[] shape = new long[t.get(1).size()];
                long size = 1;
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = t.get(1).get(i).asLong();
                    size *= shape[i];
                }
                tensors.put(t.get(0).asText(), new TorchTensor(t.get(0).asText(), shape, new float[(int) size]));
            }
            Path file = dir.resolve(model + ".safetensors");
            SafetensorsWriter.write(file, tensors);
            PyTorchWeights w = PyTorchWeights.load(file, family);
            assertEquals(Variant.B0, w.variant(), model);
            assertEquals(1000, w.numClasses(), model);
            ComputationGraph net = EfficientNet.builder().variant(Variant.B0).matching(w).build().init();
            KerasWeightImporter.Result r = w.importInto(net, "b0");
            assertEquals(net.numParams(), r.valuesLoaded(), model);
            Files.delete(file);
        }
    }

    @Test
    void aTimmFileIsRefusedAsTorchvision() {
        IOException e = assertThrows(IOException.class, () -> PyTorchWeights.load(
                resource("efficientnet-tiny-timm-real.safetensors"), PyTorchFamily.TORCHVISION));
        assertTrue(e.getMessage().contains("timm tensor names"), e.getMessage());
    }
}
