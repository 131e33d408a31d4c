package io.efficientnet.cli;

import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.weights.ImageNetPreprocessing;
import io.efficientnet.core.weights.ModelZip;
import io.efficientnet.train.TestImages;
import io.efficientnet.train.data.ImageDecoder;
import io.efficientnet.train.run.SavedModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Files from elsewhere cannot run code or exhaust memory: a model zip with a Java-serialised entry, a normaliser of a
 * custom kind and an image whose header claims a huge size are refused with one line naming the file and the entry,
 * class or size, and the payload is never deserialised.
 */
class UntrustedFilesTest {

    /** Set when an instance is deserialised: the mark a payload would leave. */
    static volatile boolean deserialised;

    /** A payload whose deserialisation leaves a mark (a gadget chain would run code at the same point). */
    static final class Payload implements Serializable {
        private static final long serialVersionUID = 1L;

        private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
            in.defaultReadObject();
            deserialised = true;
        }
    }

    @TempDir
    static Path dir;
    static Path clean;
    static Path image;

    @BeforeAll
    static void files() throws Exception {
        clean = dir.resolve("clean.zip");
        ModelZip.write(EfficientNet.builder().phi(-4).resolution(32).numClasses(3).build().init(), clean, false,
                ImageNetPreprocessing.normalizer(), ModelZip.describe(new int[] {3, 32, 32}, 0.875, TestImages.CLASSES));
        Path data = dir.resolve("shapes");
        TestImages.writeFolder(data, 1, 3);
        image = data.resolve(TestImages.CLASSES.get(0)).resolve("000.png");
    }

    private static Path withEntry(String name, String entry, byte[] content) throws IOException {
        Path zip = dir.resolve(name);
        Files.copy(clean, zip, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        try (FileSystem fs = FileSystems.newFileSystem(zip)) {
            Files.write(fs.getPath(entry), content);
        }
        return zip;
    }

    @Test
    void aJavaSerialisedEntryIsRefusedUnreadEverywhereAModelIsLoaded() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(new Payload());
        }
        Path bad = withEntry("payload.zip", "preprocessor.bin", bytes.toByteArray());
        deserialised = false;
        for (String[] command : List.of(new String[] {"predict", "--model", bad.toString(), image.toString()},
                new String[] {"evaluate", "--model", bad.toString(), "--data", dir.resolve("shapes").toString()},
                new String[] {"export", "--model", bad.toString(), "--output", dir.resolve("x.zip").toString()},
                new String[] {"benchmark", "--model", bad.toString(), "--iterations", "1", "--warmup", "0"})) {
            Object[] r = SummaryCommandTest.run(command);
            assertEquals(2, r[0], command[0] + ": " + r[2]);
            List<String> lines = ((String) r[2]).strip().lines().toList();
            assertEquals(1, lines.size(), command[0] + ": " + r[2]);
            assertTrue(lines.get(0).startsWith("error: " + bad + ": entry 'preprocessor.bin' is not one this project "
                    + "writes and was not read"), lines.get(0));
        }
        IOException e = assertThrows(IOException.class, () -> SavedModel.load(bad));
        assertTrue(e.getMessage().contains("preprocessor.bin"), e.getMessage());
        assertFalse(deserialised, "the payload was never deserialised");
        assertFalse(Files.exists(dir.resolve("x.zip")), "nothing written");
        assertNotNull(SavedModel.load(clean).network(), "the same zip without the entry loads");
    }

    @Test
    void aCustomNormaliserIsRefusedNamingItsKind() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeUTF("NORMALIZER");
            out.writeInt(1);
            out.writeUTF("CUSTOM");
            out.writeUTF(Payload.class.getName());
        }
        Path bad = withEntry("custom-normaliser.zip", "normalizer.bin", bytes.toByteArray());
        Object[] r = SummaryCommandTest.run("predict", "--model", bad.toString(), image.toString());
        assertEquals(2, r[0], (String) r[2]);
        assertTrue(((String) r[2]).contains(bad + ": entry normalizer.bin holds a normaliser of kind CUSTOM; only "
                + "ND4J's built-in kinds are read"), (String) r[2]);
    }

    @Test
    void aMalformedEvaluationCropIsOneLineNamingTheEntry() throws Exception {
        for (String value : List.of("wide", "1.5")) {
            Path bad = withEntry("crop-" + value + ".zip", ModelZip.EVAL_CROP, value.getBytes());
            Object[] r = SummaryCommandTest.run("predict", "--model", bad.toString(), image.toString());
            assertEquals(2, r[0], (String) r[2]);
            List<String> lines = ((String) r[2]).strip().lines().toList();
            assertEquals(List.of("error: " + bad + ": entry eval_crop.txt should be a fraction in (0, 1], got '"
                    + value + "'"), lines);
        }
    }

    @Test
    void anImageClaimingAHugeSizeIsNotDecoded() throws Exception {
        Path bomb = dir.resolve("bomb.png");
        Files.write(bomb, pngHeader(100_000, 100_000));
        IOException e = assertThrows(IOException.class, () -> ImageDecoder.readRgb(bomb));
        assertTrue(e.getMessage().startsWith(bomb + ": not a readable image (the image claims 100000x100000 pixels, "
                + "more than the " + ImageDecoder.MAX_PIXELS), e.getMessage());
        Object[] r = SummaryCommandTest.run("predict", "--model", clean.toString(), "--json", bomb.toString(),
                image.toString());
        assertEquals(1, r[0], "one file failed: " + r[2]);
        assertTrue(((String) r[1]).contains("claims 100000x100000 pixels"), (String) r[1]);
    }

    /** A PNG signature, an IHDR chunk claiming {@code width × height} RGB pixels and an IEND chunk: no pixel data. */
    private static byte[] pngHeader(int width, int height) {
        ByteBuffer b = ByteBuffer.allocate(8 + 25 + 12);
        b.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a});
        chunk(b, "IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 2)
                .put((byte) 0).put((byte) 0).put((byte) 0).array());
        chunk(b, "IEND", new byte[0]);
        return b.array();
    }

    private static void chunk(ByteBuffer b, String type, byte[] data) {
        b.putInt(data.length);
        byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        b.put(t).put(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        b.putInt((int) crc.getValue());
    }
}
