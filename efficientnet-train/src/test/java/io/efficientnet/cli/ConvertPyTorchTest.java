package io.efficientnet.cli;

import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.model.Padding;
import io.efficientnet.core.weights.ImageNetLabels;
import io.efficientnet.core.weights.ModelZip;
import io.efficientnet.core.weights.ModelZipLoader;
import io.efficientnet.core.weights.SafetensorsWriter;
import io.efficientnet.core.weights.TorchTensor;
import io.efficientnet.core.weights.TorchvisionStateDict;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code convert --pytorch}: a B0 written as torchvision's state_dict (a .safetensors file made from a network of
 * this project, so that the test needs no Python) becomes a model zip holding the same network.
 */
class ConvertPyTorchTest {

    @TempDir
    static Path dir;
    static ComputationGraph source;
    static Path file;

    @BeforeAll
    static void torchvisionB0() throws Exception {
        EfficientNet model = EfficientNet.builder().padding(Padding.SYMMETRIC).batchNormEpsilon(1e-5).seed(4).build();
        source = model.init();
        Nd4j.getRandom().setSeed(6);
        for (var layer : source.getLayers()) {
            if (layer.paramTable().containsKey("log10stdev")) {
                layer.getParam("mean").assign(Nd4j.randn(layer.getParam("mean").shape()).muli(0.1));
                layer.getParam("log10stdev").assign(Nd4j.rand(layer.getParam("log10stdev").shape()).muli(0.2)
                        .subi(0.1));
            }
        }
        file = dir.resolve("efficientnet_b0.safetensors");
        SafetensorsWriter.write(file, TorchvisionStateDict.of(model, source));
    }

    @Test
    void convertsTorchvisionWeightsIntoAModelZip() throws Exception {
        Path zip = dir.resolve("b0.zip");
        Object[] r = SummaryCommandTest.run("convert", "--pytorch", file.toString(), "--variant", "b0", "--output",
                zip.toString());
        assertEquals(0, r[0], (String) r[2]);
        String out = (String) r[1];
        assertTrue(out.contains("detected torchvision EfficientNet-B0 weights (symmetric padding, batch-norm eps 1e-5)"),
                out);
        assertTrue(out.contains("Converted"), out);
        ComputationGraph net = ModelZipLoader.graph(zip, false);
        // the batch-norm variance goes through float32 var and back to log10(√var): a few ulps
        assertTrue(net.params().sub(source.params()).amaxNumber().doubleValue() < 1e-6);
        assertNotNull(ModelZipLoader.normalizer(zip), "ImageNet normalizer");
        assertTrue(ModelZip.readEntry(zip, ModelZip.LABELS).startsWith(ImageNetLabels.get(0)),
                "ImageNet labels for a 1000-class top");
    }

    @Test
    void noTopFilesAndErrors() throws Exception {
        Map<String, TorchTensor> headless = new LinkedHashMap<>(
                io.efficientnet.core.weights.SafetensorsFile.read(file));
        headless.keySet().removeIf(n -> n.startsWith("classifier."));
        Path notop = dir.resolve("b0_notop.safetensors");
        SafetensorsWriter.write(notop, headless);
        Path zip = dir.resolve("notop.zip");
        Object[] r = SummaryCommandTest.run("convert", "--pytorch", notop.toString(), "--variant", "b0", "--no-top",
                "--pooling", "max", "--output", zip.toString());
        assertEquals(0, r[0], (String) r[2]);
        assertFalse(ModelZipLoader.graph(zip, false).getConfiguration().getVertices().containsKey("predictions"));

        r = SummaryCommandTest.run("convert", "--pytorch", file.toString(), "--variant", "b0", "--family", "timm",
                "--output", dir.resolve("x.zip").toString());
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("has torchvision tensor names, not timm's"), (String) r[2]);
        r = SummaryCommandTest.run("convert", "--pytorch", file.toString(), "--variant", "b1", "--output",
                dir.resolve("x.zip").toString());
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("B0 weights, not B1"), (String) r[2]);
        r = SummaryCommandTest.run("convert", "--pytorch", file.toString(), "--variant", "b0", "--no-top",
                "--output", dir.resolve("x.zip").toString());
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("without top"), (String) r[2]);
        r = SummaryCommandTest.run("convert", "--pytorch", file.toString(), "--keras", file.toString(), "--variant",
                "b0", "--output", dir.resolve("x.zip").toString());
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("mutually exclusive"), (String) r[2]);
        r = SummaryCommandTest.run("convert", "--keras", file.toString(), "--family", "timm", "--variant", "b0",
                "--output", dir.resolve("x.zip").toString());
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("--family applies to --pytorch"), (String) r[2]);
        assertFalse(Files.exists(dir.resolve("x.zip")), "nothing written on failure");
    }
}
