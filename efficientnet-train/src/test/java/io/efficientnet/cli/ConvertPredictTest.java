package io.efficientnet.cli;

import io.efficientnet.core.weights.ModelZip;
import io.jhdf.HdfFile;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.preprocessor.DataNormalization;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** convert (golden Keras file → zip) and predict through the CLI. */
class ConvertPredictTest {

    @TempDir
    static Path dir;
    static Path keras;
    static Path zip;
    static INDArray input;
    static INDArray predictions;

    @BeforeAll
    static void convertGolden() throws Exception {
        keras = copy("golden/efficientnet-b0-keras-random.h5");
        Path golden = copy("golden/efficientnet-b0-keras-random.golden.h5");
        try (HdfFile f = new HdfFile(golden)) {
            input = Nd4j.createFromArray((float[]) f.getDatasetByPath("input").getDataFlat()).reshape(2, 3, 224, 224);
            predictions = Nd4j.createFromArray((float[]) f.getDatasetByPath("predictions").getDataFlat())
                    .reshape(2, 1000);
        }
        zip = dir.resolve("b0.zip");
        Object[] r = SummaryCommandTest.run("convert", "--keras", keras.toString(), "--variant", "b0", "--output",
                zip.toString());
        assertEquals(0, r[0], (String) r[2]);
    }

    static Path copy(String resource) throws Exception {
        Path out = dir.resolve(Path.of(resource).getFileName());
        try (InputStream in = ConvertPredictTest.class.getClassLoader().getResourceAsStream(resource)) {
            Files.copy(in, out);
        }
        return out;
    }

    @Test
    void convertedZipRestoresWithNormalizerAndReproducesKeras() throws Exception {
        ComputationGraph net = ModelSerializer.restoreComputationGraph(zip.toFile(), false);
        DataNormalization norm = ModelSerializer.restoreNormalizerFromFile(zip.toFile());
        assertNotNull(norm, "normalizer stored in the zip");
        INDArray x = input.dup();
        norm.transform(x);
        // probabilities (≤ 1) of the same float32 network as Keras': the two differ only in summation order across
        // ~80 layers, a few roundings of 2⁻²⁴ each; 1e-5 is ~170 of them (a wrongly mapped weight is off by 1e-2 or more)
        assertTrue(net.outputSingle(x).sub(predictions).amaxNumber().doubleValue() < 1e-5);
        // the reference evaluation's crop at the converted network's resolution, resolution / (resolution + 32)
        int res = ModelZip.readInputShape(zip)[1];
        assertEquals((double) res / (res + 32), ModelZip.readEvalCrop(zip), 1e-12);
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temporary files left");
        }
    }

    @Test
    void convertErrorsNameTheProblem() {
        Object[] r = SummaryCommandTest.run("convert", "--keras", keras.toString(), "--variant", "b1", "--output",
                dir.resolve("x.zip").toString());
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("B0 weights, not B1"), (String) r[2]);
        assertFalse(Files.exists(dir.resolve("x.zip")), "nothing written on failure");
        r = SummaryCommandTest.run("convert", "--keras", keras.toString(), "--variant", "b0", "--no-top",
                "--output", dir.resolve("y.zip").toString());
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("without top"), (String) r[2]);
    }

    @Test
    void predictPrintsTopFiveWithImageNetLabelsAndSkipsBadFiles() throws Exception {
        Path png = dir.resolve("sample0.png");
        // The golden input centred in a 256x256 canvas: resize-to-256 + centre-crop-224 recovers it exactly.
        BufferedImage img = new BufferedImage(256, 256, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 224; y++) {
            for (int x = 0; x < 224; x++) {
                int r = Math.round(input.getFloat(0, 0, y, x));
                int g = Math.round(input.getFloat(0, 1, y, x));
                int b = Math.round(input.getFloat(0, 2, y, x));
                img.setRGB(x + 16, y + 16, (clamp(r) << 16) | (clamp(g) << 8) | clamp(b));
            }
        }
        ImageIO.write(img, "png", png.toFile());
        Path empty = Files.createFile(dir.resolve("empty.jpg"));
        Path text = Files.writeString(dir.resolve("notes.png"), "not an image");
        Object[] r = SummaryCommandTest.run("predict", "--model", zip.toString(), "--json", png.toString(),
                empty.toString(), text.toString(), dir.resolve("missing.jpg").toString());
        assertEquals(1, r[0], "some files failed");
        JsonNode j = new ObjectMapper().readTree((String) r[1]);
        assertEquals(3, j.get("failed").asInt());
        assertTrue(j.get("engine").asText().startsWith("oneDNN"), "the default engine is oneDNN: " + j);
        JsonNode first = j.get("results").get(0);
        assertEquals(5, first.get("top").size());
        double prev = 1.0;
        for (JsonNode e : first.get("top")) {
            double p = e.get("probability").asDouble();
            assertTrue(p <= prev);
            prev = p;
            assertEquals(io.efficientnet.core.weights.ImageNetLabels.get(e.get("class").asInt()),
                    e.get("label").asText());
        }
        int expectedTop = predictions.getRow(0).argMax().getInt(0);
        assertEquals(expectedTop, first.get("top").get(0).get("class").asInt(),
                "predict reproduces the golden top class through the whole image pipeline");
        String e1 = j.get("results").get(1).get("error").asText();
        assertTrue(e1.contains("empty.jpg: empty file"), e1);
        String e2 = j.get("results").get(2).get("error").asText();
        assertTrue(e2.contains("notes.png: not an image"), e2);
        String e3 = j.get("results").get(3).get("error").asText();
        assertTrue(e3.contains("missing.jpg: no such file"), e3);

        Object[] dl4j = SummaryCommandTest.run("predict", "--model", zip.toString(), "--json", "--engine", "dl4j",
                png.toString());
        assertEquals(0, dl4j[0], (String) dl4j[2]);
        JsonNode d = new ObjectMapper().readTree((String) dl4j[1]);
        assertEquals("DL4J", d.get("engine").asText());
        // Every engine's top five against float64. A random 1000-class classifier's neighbouring ranks may be closer
        // than float32 rounding and swap between engines: a rank must hold float64's class at that rank, or one whose
        // float64 probability is within twice the tolerance of that rank's.
        Reference ref = reference(img);
        assertRanks(ref, first.get("top"), "oneDNN (default engine)");
        assertRanks(ref, d.get("results").get(0).get("top"), "DL4J");
        Object[] unknown = SummaryCommandTest.run("predict", "--model", zip.toString(), "--engine", "cuda",
                png.toString());
        assertEquals(2, unknown[0]);
        assertTrue(((String) unknown[2]).contains("--engine must be one of auto, onednn, dl4j, got 'cuda'"),
                (String) unknown[2]);

        Object[] table = SummaryCommandTest.run("predict", "--model", zip.toString(), png.toString());
        assertEquals(0, table[0], (String) table[2]);
        assertTrue(((String) table[1]).contains("%"), (String) table[1]);
    }

    /**
     * The converted network's probabilities for the golden image in float64 ({@code exact}) and the tolerance of a
     * float32 engine: 3x DL4J's own float32 error against float64 (engines round in other orders and kernels, with
     * errors of that size, not DL4J's exactly), plus 1e-6 for when DL4J happens to land very close.
     */
    private record Reference(double[] exact, double tolerance) {
    }

    /** The reference for the 224x224 image at (16, 16) in {@code img}, what predict's resize and crop give. */
    private static Reference reference(BufferedImage img) throws Exception {
        ComputationGraph net = ModelSerializer.restoreComputationGraph(zip.toFile(), false);
        INDArray x = Nd4j.create(DataType.FLOAT, 1, 3, 224, 224);
        for (int y = 0; y < 224; y++) {
            for (int c = 0; c < 224; c++) {
                int rgb = img.getRGB(c + 16, y + 16);
                for (int ch = 0; ch < 3; ch++) {
                    x.putScalar(new long[] {0, ch, y, c}, (rgb >> (16 - 8 * ch)) & 0xff);
                }
            }
        }
        DataNormalization norm = ModelSerializer.restoreNormalizerFromFile(zip.toFile());
        norm.transform(x);
        INDArray p32 = net.outputSingle(x).castTo(DataType.DOUBLE);
        INDArray p64 = net.convertDataType(DataType.DOUBLE).outputSingle(x.castTo(DataType.DOUBLE));
        double dl4jError = p32.sub(p64).amaxNumber().doubleValue();
        return new Reference(p64.reshape(-1).toDoubleVector(), 3 * dl4jError + 1e-6);
    }

    /** Asserts that an engine's top five (class, probability) are float64's, up to near-ties. */
    private static void assertRanks(Reference ref, JsonNode top, String engine) {
        double[] sorted = ref.exact().clone();
        java.util.Arrays.sort(sorted);
        double tol = ref.tolerance();
        assertEquals(5, top.size());
        for (int k = 0; k < 5; k++) {
            int c = top.get(k).get("class").asInt();
            double p = top.get(k).get("probability").asDouble();
            double rankK = sorted[sorted.length - 1 - k];
            assertEquals(ref.exact()[c], p, tol, engine + ": probability of class " + c + " at rank " + k);
            // both the engine's order and float64's keep each probability within tol of float64's
            assertEquals(rankK, ref.exact()[c], 2 * tol, engine + ": class " + c + " at rank " + k + " has float64 "
                    + "probability " + ref.exact()[c] + ", rank " + k + " has " + rankK);
        }
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }
}
