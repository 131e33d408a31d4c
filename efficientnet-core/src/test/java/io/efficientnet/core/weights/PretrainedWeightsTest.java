package io.efficientnet.core.weights;

import com.sun.net.httpserver.HttpServer;
import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.model.Pooling;
import org.deeplearning4j.common.resources.DL4JResources;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.zoo.PretrainedType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/** initPretrained against a local HTTP server: download, checksum, cache, offline reuse, corrupt downloads. */
class PretrainedWeightsTest {

    @TempDir
    Path cache;
    HttpServer server;
    byte[] weightBytes;
    String md5;
    volatile int truncateTo = -1;
    final AtomicInteger requests = new AtomicInteger();

    @BeforeEach
    void start() throws Exception {
        KerasImportTest.readGolden();
        DL4JResources.setBaseDirectory(cache.toFile());
        weightBytes = Files.readAllBytes(KerasImportTest.resource("golden/efficientnet-b0-keras-random.h5"));
        md5 = HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(weightBytes));
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/efficientnetb0.h5", ex -> {
            requests.incrementAndGet();
            int n = truncateTo >= 0 ? truncateTo : weightBytes.length;
            ex.sendResponseHeaders(200, weightBytes.length); // announces the full length
            OutputStream out = ex.getResponseBody();
            out.write(weightBytes, 0, n);
            out.flush();
            if (n < weightBytes.length) {
                throw new IOException("simulated interruption"); // the server drops the connection
            }
            out.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
        DL4JResources.resetBaseDirectoryLocation();
    }

    URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/efficientnetb0.h5");
    }

    @Test
    void downloadsVerifiesConvertsCachesAndWorksOffline() throws Exception {
        EfficientNet model = EfficientNet.builder().pretrainedSource(new WeightSource(url(), md5)).build();
        ComputationGraph net = model.initPretrained(PretrainedType.IMAGENET);
        INDArray x = KerasImportTest.golden.get("input").dup();
        ImageNetPreprocessing.normalizer().transform(x);
        INDArray expected = KerasImportTest.golden.get("predictions");
        assertTrue(net.outputSingle(x).sub(expected).amaxNumber().doubleValue() < 1e-5);
        assertEquals(1, requests.get());
        File[] zips = cache.resolve("models/efficientnet").toFile().listFiles();
        assertNotNull(zips);
        assertEquals(1, zips.length, "only the converted zip stays in the cache: " + java.util.Arrays.toString(zips));
        assertTrue(zips[0].getName().endsWith(".zip"));

        server.stop(0); // offline from now on
        ComputationGraph again = model.initPretrained(PretrainedType.IMAGENET);
        assertEquals(net.params(), again.params());
        // A headless model at another resolution reuses the same weights for the layers it has.
        ComputationGraph headless = EfficientNet.builder().pretrainedSource(new WeightSource(url(), md5))
                .includeTop(false).pooling(Pooling.AVG).resolution(128).build().initPretrained(PretrainedType.IMAGENET);
        assertEquals(net.getLayer("top_conv").params(), headless.getLayer("top_conv").params());
    }

    @Test
    void wrongChecksumIsRejectedAndNothingIsKept() {
        String wrong = "0123456789abcdef0123456789abcdef";
        EfficientNet model = EfficientNet.builder().pretrainedSource(new WeightSource(url(), wrong)).build();
        IOException e = assertThrows(IOException.class, () -> model.initPretrained(PretrainedType.IMAGENET));
        assertTrue(e.getMessage().contains("MD5 " + md5) && e.getMessage().contains(wrong), e.getMessage());
        assertTrue(e.getMessage().contains("efficientnet.weights.file"), "says how to use a local file");
        assertCacheEmpty();
    }

    @Test
    void interruptedDownloadIsDetectedAndRemoved() {
        truncateTo = weightBytes.length / 2;
        EfficientNet model = EfficientNet.builder().pretrainedSource(new WeightSource(url(), md5)).build();
        IOException e = assertThrows(IOException.class, () -> model.initPretrained(PretrainedType.IMAGENET));
        assertTrue(e.getMessage().contains("download of " + url()), e.getMessage());
        assertCacheEmpty();
        // A later complete download succeeds.
        truncateTo = -1;
        assertDoesNotThrow(() -> model.initPretrained(PretrainedType.IMAGENET));
    }

    @Test
    void localFileAndClearErrorsForModelsWithoutWeights() throws Exception {
        Path file = KerasImportTest.resource("golden/efficientnet-b0-keras-random.h5");
        ComputationGraph net = EfficientNet.builder().pretrainedSource(new WeightSource(file.toUri(), md5)).build()
                .initPretrained(PretrainedType.IMAGENET);
        assertEquals(5288548 + 42016, net.numParams());
        assertThrows(UnsupportedOperationException.class,
                () -> EfficientNet.builder().phi(-1).build().initPretrained(PretrainedType.IMAGENET));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> EfficientNet.builder().numClasses(10).build().initPretrained(PretrainedType.IMAGENET));
        assertTrue(e.getMessage().contains("1000 classes"), e.getMessage());
        assertEquals(WeightSource.KERAS_BASE_URL + "efficientnetb3_notop.h5",
                EfficientNet.builder().variant("b3").includeTop(false).build().pretrainedUrl(PretrainedType.IMAGENET));
    }

    private void assertCacheEmpty() {
        File dir = cache.resolve("models/efficientnet").toFile();
        String[] left = dir.list();
        assertTrue(left == null || left.length == 0, "cache must be empty, has " + java.util.Arrays.toString(left));
    }
}
