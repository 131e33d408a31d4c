package io.efficientnet.cli;

import com.sun.net.httpserver.HttpServer;
import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.weights.ImageNetLabels;
import io.efficientnet.core.weights.ImageNetPreprocessing;
import io.efficientnet.core.weights.KerasWeightImporter;
import io.efficientnet.core.weights.WeightSource;
import io.efficientnet.train.data.EvalTransform;
import io.efficientnet.train.data.ImageDecoder;
import io.jhdf.HdfFile;
import org.deeplearning4j.common.resources.DL4JResources;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.zoo.PretrainedType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Where ImageNet weights come from: {@code -Defficientnet.weights.file} (a local Keras file, used as it is) and
 * {@code -Defficientnet.weights.mirror} (a base URL serving the official files, checked against their MD5), through
 * {@link EfficientNet#initPretrained} and {@code predict --pretrained}. Keras-layout random B0 weights stand in for the
 * official ones.
 */
class WeightPropertiesTest {

    /** The official efficientnetb0.h5's MD5 (Keras applications). */
    private static final String B0_MD5 = "902e53a9f72be733fc0bcb005b3ebbac";

    @TempDir
    Path dir;
    Path h5;

    @BeforeEach
    void setUp() throws Exception {
        h5 = copy("golden/efficientnet-b0-keras-random.h5");
        // converted zips go here, not to the home folder
        DL4JResources.setBaseDirectory(Files.createDirectories(dir.resolve("cache")).toFile());
    }

    @AfterEach
    void tearDown() {
        DL4JResources.resetBaseDirectoryLocation();
    }

    private Path copy(String resource) throws IOException {
        Path out = dir.resolve(Path.of(resource).getFileName());
        try (InputStream in = getClass().getClassLoader().getResourceAsStream(resource)) {
            assertNotNull(in, resource);
            Files.copy(in, out);
        }
        return out;
    }

    /** Runs {@code work} with the two properties set (null: cleared), restoring their values afterwards. */
    private static <T> T with(String file, String mirror, Callable<T> work) throws Exception {
        String oldFile = System.getProperty(WeightSource.FILE_PROPERTY);
        String oldMirror = System.getProperty(WeightSource.MIRROR_PROPERTY);
        try {
            set(WeightSource.FILE_PROPERTY, file);
            set(WeightSource.MIRROR_PROPERTY, mirror);
            return work.call();
        } finally {
            set(WeightSource.FILE_PROPERTY, oldFile);
            set(WeightSource.MIRROR_PROPERTY, oldMirror);
        }
    }

    private static void set(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }

    @Test
    void theLocalFileIsUsedAsItIsAndWinsOverAMirror() throws Exception {
        ComputationGraph net = with(h5.toString(), "http://127.0.0.1:9/unused/", () -> {
            assertEquals(h5.toAbsolutePath().toUri().toString(),
                    EfficientNet.builder().build().pretrainedUrl(PretrainedType.IMAGENET));
            return EfficientNet.builder().build().initPretrained(PretrainedType.IMAGENET);
        });
        ComputationGraph expected = EfficientNet.builder().build().init();
        KerasWeightImporter.load(expected, h5, "b0");
        assertEquals(expected.params(), net.params(), "the file's weights, not checked against the official MD5");

        Path missing = dir.resolve("missing.h5");
        IOException e = assertThrows(IOException.class, () -> with(missing.toString(), null,
                () -> EfficientNet.builder().build().initPretrained(PretrainedType.IMAGENET)));
        assertEquals("local weight file " + missing.toAbsolutePath() + " does not exist", e.getMessage());
    }

    @Test
    void aMirrorServesTheOfficialFileNamesAndItsFilesMustHaveTheOfficialChecksum() throws Exception {
        byte[] bytes = Files.readAllBytes(h5);
        String md5 = HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(bytes));
        Map<String, Integer> requests = new LinkedHashMap<>();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/weights/", ex -> {
            synchronized (requests) {
                requests.merge(ex.getRequestURI().getPath(), 1, Integer::sum);
            }
            ex.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        });
        server.start();
        try {
            String mirror = "http://127.0.0.1:" + server.getAddress().getPort() + "/weights"; // no trailing slash
            with(" ", mirror, () -> { // a blank file property is no file
                assertEquals(mirror + "/efficientnetb0.h5",
                        EfficientNet.builder().build().pretrainedUrl(PretrainedType.IMAGENET));
                assertEquals(mirror + "/efficientnetb3_notop.h5", EfficientNet.builder().variant("b3")
                        .includeTop(false).build().pretrainedUrl(PretrainedType.IMAGENET));
                // the stand-in is not the published file: downloaded from the mirror, then refused
                IOException e = assertThrows(IOException.class,
                        () -> EfficientNet.builder().build().initPretrained(PretrainedType.IMAGENET));
                assertTrue(e.getMessage().startsWith("download of " + mirror + "/efficientnetb0.h5 has MD5 " + md5
                        + " (" + bytes.length + " bytes) but " + B0_MD5 + " was expected"), e.getMessage());
                return null;
            });
            assertEquals(Map.of("/weights/efficientnetb0.h5", 1), requests);
            try (var left = Files.list(dir.resolve("cache").resolve("models").resolve("efficientnet"))) {
                assertEquals(0, left.count(), "nothing kept from the refused download");
            }
        } finally {
            server.stop(0);
        }
        assertEquals(WeightSource.KERAS_BASE_URL + "efficientnetb0.h5", with(null, null,
                () -> EfficientNet.builder().build().pretrainedUrl(PretrainedType.IMAGENET)), "the default source");
    }

    @Test
    void predictPretrainedClassifiesWithTheWeightsOfTheFileProperty() throws Exception {
        INDArray input;
        INDArray golden;
        try (HdfFile f = new HdfFile(copy("golden/efficientnet-b0-keras-random.golden.h5"))) {
            input = Nd4j.createFromArray((float[]) f.getDatasetByPath("input").getDataFlat()).reshape(2, 3, 224, 224);
            golden = Nd4j.createFromArray((float[]) f.getDatasetByPath("predictions").getDataFlat()).reshape(2, 1000);
        }
        Path[] png = {png(input, 0), png(input, 1)};
        Object[] r = with(h5.toString(), null, () -> SummaryCommandTest.run("predict", "--variant", "b0",
                "--pretrained", "imagenet", "--engine", "dl4j", "--top", "1000", "--json", png[0].toString(),
                png[1].toString()));
        assertEquals(0, r[0], (String) r[2]);
        JsonNode j = new ObjectMapper().readTree((String) r[1]);
        assertEquals("DL4J", j.get("engine").asText());

        // The file's weights imported directly, on the same decoded, cropped and normalised pixels.
        ComputationGraph expected = EfficientNet.builder().build().init();
        KerasWeightImporter.load(expected, h5, "b0");
        EvalTransform crop = new EvalTransform(224, 224, EvalTransform.CROP_FRACTION);
        for (int s = 0; s < 2; s++) {
            float[] pixels = new float[3 * 224 * 224];
            ImageDecoder.toChw(crop.apply(ImageDecoder.readRgb(png[s])), pixels, 0);
            INDArray x = Nd4j.createFromArray(pixels).reshape(1, 3, 224, 224);
            ImageNetPreprocessing.normalizer().transform(x);
            INDArray p = expected.output(false, x)[0].reshape(-1);
            JsonNode top = j.get("results").get(s).get("top");
            assertEquals(1000, top.size());
            for (JsonNode e : top) {
                int c = e.get("class").asInt();
                assertEquals(ImageNetLabels.get(c), e.get("label").asText());
                // the same float32 DL4J forward pass on the same input; slack for reductions split across threads
                assertEquals(p.getDouble(c), e.get("probability").asDouble(), 1e-6, "sample " + s + " class " + c);
            }
            // Keras' top class: it leads by over 0.01, twenty times what rounding the golden input to 8-bit pixels
            // moves a probability here (5e-4), so the rounded image keeps it.
            INDArray sorted = Nd4j.sort(golden.getRow(s).dup(), false);
            assertTrue(sorted.getDouble(0) - sorted.getDouble(1) > 0.01, "sample " + s + ": no near-tie in golden");
            assertEquals(golden.getRow(s).argMax().getInt(0), top.get(0).get("class").asInt(), "sample " + s);
        }

        Path missing = dir.resolve("missing.h5");
        r = with(missing.toString(), null, () -> SummaryCommandTest.run("predict", "--variant", "b0", "--pretrained",
                "imagenet", png[0].toString()));
        assertEquals(2, r[0]);
        assertEquals("error: local weight file " + missing.toAbsolutePath() + " does not exist",
                ((String) r[2]).strip(), "one line");
        r = SummaryCommandTest.run("predict", "--variant", "b0", "--pretrained", "noisy-student", png[0].toString());
        assertEquals(2, r[0]);
        assertEquals("error: unknown --pretrained 'noisy-student'; allowed: imagenet", ((String) r[2]).strip());
    }

    /** Sample {@code s} of the golden input centred in a 256x256 canvas: resize-to-256 + centre-crop-224 gives it. */
    private Path png(INDArray input, int s) throws IOException {
        BufferedImage img = new BufferedImage(256, 256, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 224; y++) {
            for (int x = 0; x < 224; x++) {
                int rgb = 0;
                for (int c = 0; c < 3; c++) {
                    rgb = rgb << 8 | Math.max(0, Math.min(255, Math.round(input.getFloat(s, c, y, x))));
                }
                img.setRGB(x + 16, y + 16, rgb);
            }
        }
        Path out = dir.resolve("sample" + s + ".png");
        ImageIO.write(img, "png", out.toFile());
        return out;
    }
}
