package io.efficientnet.cli;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.weights.ImageNetPreprocessing;
import io.efficientnet.core.weights.ModelZip;
import io.efficientnet.train.TestImages;
import io.efficientnet.train.run.SavedModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** {@code export --format onnx}: from a model zip or a built network; the file runs in ONNX Runtime. */
class OnnxExportCommandTest {

    @TempDir
    Path dir;

    private static float[] runOnnx(Path file, INDArray x) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(file.toString(), new OrtSession.SessionOptions());
             OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x.dup('c').data().asFloat()), x.shape());
             OrtSession.Result r = s.run(Map.of("input", in))) {
            OnnxTensor out = (OnnxTensor) r.get("predictions").orElseThrow();
            float[] data = new float[(int) out.getInfo().getNumElements()];
            out.getFloatBuffer().get(data);
            return data;
        }
    }

    @Test
    void aModelZipWithItsNormaliserBecomesAGraphTakingRawPixels() throws Exception {
        Path zip = dir.resolve("m.zip");
        ModelZip.write(EfficientNet.builder().phi(-3).resolution(64).numClasses(3).build().init(), zip, false,
                ImageNetPreprocessing.normalizer(), ModelZip.describe(new int[] {3, 64, 64}, 0.875, TestImages.CLASSES));
        Path onnx = dir.resolve("m.onnx");
        Object[] r = SummaryCommandTest.run("export", "--format", "onnx", "--model", zip.toString(), "--output",
                onnx.toString(), "--include-preprocessing");
        assertEquals(0, r[0], (String) r[2]);
        assertTrue(((String) r[1]).contains("input 'input' float32 [batch, 3, height, width] (RGB pixels 0..255)"),
                (String) r[1]);

        SavedModel saved = SavedModel.load(zip);
        Nd4j.getRandom().setSeed(5);
        INDArray raw = Nd4j.rand(DataType.FLOAT, 2, 3, 64, 64).muli(255);
        INDArray normalised = raw.dup();
        saved.normalizer().transform(normalised);
        INDArray expected = saved.network().output(false, normalised)[0];
        float[] actual = runOnnx(onnx, raw);
        for (int i = 0; i < actual.length; i++) {
            assertEquals(expected.getDouble(i / 3, i % 3), actual[i], 1e-4, "probability " + i);
        }
    }

    @Test
    void aBuiltNetworkExportsAndBadCombinationsAreOneLineErrors() throws Exception {
        Path onnx = dir.resolve("phi.onnx");
        Object[] r = SummaryCommandTest.run("export", "--format", "onnx", "--phi", "-3", "--resolution", "64",
                "--num-classes", "10", "--opset", "17", "--output", onnx.toString());
        assertEquals(0, r[0], (String) r[2]);
        float[] p = runOnnx(onnx, Nd4j.rand(DataType.FLOAT, 1, 3, 96, 96)); // any input size
        assertEquals(10, p.length);
        double sum = 0;
        for (float v : p) {
            sum += v;
        }
        assertEquals(1.0, sum, 1e-5, "softmax probabilities");

        for (String[] bad : new String[][] {
                {"export", "--format", "tflite", "--phi", "-3", "--output", dir.resolve("x").toString()},
                {"export", "--output", dir.resolve("x.zip").toString()},
                {"export", "--format", "onnx", "--phi", "-3", "--opset", "11", "--output", dir.resolve("x").toString()},
                {"export", "--format", "onnx", "--model", dir.resolve("none.zip").toString(), "--variant", "b1",
                        "--output", dir.resolve("x").toString()}}) {
            Object[] e = SummaryCommandTest.run(bad);
            assertEquals(2, e[0], String.join(" ", bad) + ": " + e[2]);
            assertEquals(1, ((String) e[2]).strip().lines().count(), (String) e[2]);
        }
        assertFalse(Files.exists(dir.resolve("x")), "nothing written");
    }
}
