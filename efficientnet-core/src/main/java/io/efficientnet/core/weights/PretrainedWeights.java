package io.efficientnet.core.weights;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.api.preprocessor.NormalizerStandardize;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URLConnection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.Function;

/**
 * Downloads a Keras weight file, verifies its MD5, converts it once into a DL4J model zip in a cache folder and
 * reuses that zip afterwards (offline). Partial or corrupt downloads are deleted and never used.
 */
public final class PretrainedWeights {

    private static final Logger log = LoggerFactory.getLogger(PretrainedWeights.class);

    private PretrainedWeights() {
    }

    /**
     * Returns the cached converted model for {@code source}, creating it if needed.
     *
     * @param canonical builds the graph the weights are converted into, with or without the classifier depending on
     *                  whether the file has one (argument {@code true} when it has)
     * @param label     e.g. {@code b0}, for file names and messages
     * @param cacheDir  folder for converted zips
     */
    public static Path cachedModel(WeightSource source, Function<Boolean, ComputationGraph> canonical, String label,
            Path cacheDir) throws IOException {
        Path zip = cacheDir.resolve("efficientnet-" + label + "-" + source.cacheKey() + ".zip");
        if (Files.isRegularFile(zip)) {
            return zip;
        }
        Files.createDirectories(cacheDir);
        Path h5;
        Path downloaded = null;
        if ("file".equals(source.uri().getScheme())) {
            h5 = Path.of(source.uri());
            if (!Files.isRegularFile(h5)) {
                throw new IOException("local weight file " + h5 + " does not exist");
            }
            verify(h5, source);
        } else {
            downloaded = download(source, cacheDir);
            h5 = downloaded;
        }
        try {
            KerasWeightImporter.Result r;
            ComputationGraph net;
            try (KerasWeightFile file = KerasWeightFile.open(h5)) {
                net = canonical.apply(file.hasLayer("predictions"));
                r = KerasWeightImporter.load(net, file, label);
            }
            ModelZip.write(net, zip, false, r.normalizer());
            log.info("Converted {} ({} layers) to {}", source.uri(), r.layersLoaded(), zip);
            return zip;
        } finally {
            if (downloaded != null) {
                Files.deleteIfExists(downloaded);
            }
        }
    }

    /** Restores a cached zip's graph and normalizer. */
    public static ComputationGraph restore(Path zip) throws IOException {
        try {
            return ModelZipLoader.graph(zip, false);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(zip);
            throw new IOException("cached model " + zip + " could not be read and was removed; run again to "
                    + "re-create it (" + e.getMessage() + ")", e);
        }
    }

    /** The normalizer stored in a model zip, or null. */
    public static NormalizerStandardize normalizer(Path zip) throws IOException {
        return ModelZipLoader.normalizer(zip) instanceof NormalizerStandardize n ? n : null;
    }

    private static Path download(WeightSource source, Path dir) throws IOException {
        Path part = Files.createTempFile(dir, "download-", ".h5.part");
        boolean ok = false;
        try {
            log.info("Downloading {}", source.uri());
            MessageDigest md5 = md5();
            long expected = -1;
            long n;
            try {
                URLConnection conn = source.uri().toURL().openConnection();
                conn.setConnectTimeout(30_000);
                conn.setReadTimeout(60_000);
                if (conn instanceof HttpURLConnection http) {
                    int code = http.getResponseCode();
                    if (code != 200) {
                        throw new IOException("HTTP " + code);
                    }
                    expected = http.getContentLengthLong();
                }
                try (InputStream in = new DigestInputStream(conn.getInputStream(), md5);
                     OutputStream out = Files.newOutputStream(part)) {
                    n = in.transferTo(out);
                }
            } catch (IOException e) {
                throw new IOException("download of " + source.uri() + " failed (" + e + "); the partial file was "
                        + "removed" + retryHint(), e);
            }
            if (expected >= 0 && n != expected) {
                throw new IOException("download of " + source.uri() + " was interrupted: got " + n + " of " + expected
                        + " bytes; the partial file was removed" + retryHint());
            }
            check(HexFormat.of().formatHex(md5.digest()), source, n, "download of " + source.uri());
            ok = true;
            return part;
        } finally {
            if (!ok) {
                Files.deleteIfExists(part);
            }
        }
    }

    private static void verify(Path file, WeightSource source) throws IOException {
        if (source.md5() == null) {
            return;
        }
        MessageDigest md5 = md5();
        long n;
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), md5)) {
            n = in.transferTo(OutputStream.nullOutputStream());
        }
        check(HexFormat.of().formatHex(md5.digest()), source, n, "local file " + file);
    }

    private static void check(String actual, WeightSource source, long bytes, String what) throws IOException {
        if (source.md5() != null && !source.md5().equals(actual)) {
            throw new IOException(what + " has MD5 " + actual + " (" + bytes + " bytes) but " + source.md5()
                    + " was expected: the file is corrupt or not the published one, and was not used" + retryHint());
        }
    }

    private static String retryHint() {
        return ". Retry, or download the file yourself and pass it with -D" + WeightSource.FILE_PROPERTY
                + "=/path/to/file.h5 (or EfficientNet.Builder.pretrainedSource), or point -D"
                + WeightSource.MIRROR_PROPERTY + "=<base URL> at a mirror";
    }

    private static MessageDigest md5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
