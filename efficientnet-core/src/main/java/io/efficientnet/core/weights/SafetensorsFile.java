package io.efficientnet.core.weights;

import org.nd4j.shade.jackson.core.JsonFactory;
import org.nd4j.shade.jackson.core.JsonParser;
import org.nd4j.shade.jackson.core.JsonToken;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a {@code .safetensors} file: an unsigned 64-bit little-endian header length, a JSON header mapping each
 * tensor name to {@code dtype}, {@code shape} and {@code data_offsets} (relative to the end of the header), then the
 * raw little-endian data. F32, F16, BF16, F64 and I64 tensors are read, as float32. Every size the header claims is
 * checked against the file before anything is allocated; the JSON is read token by token (no recursion).
 */
public final class SafetensorsFile {

    /** Largest header read: real headers take about 100 bytes per tensor (B7 has about 1,000 tensors). */
    static final long MAX_HEADER_BYTES = 64L << 20;

    private SafetensorsFile() {
    }

    /** What the header says about one tensor. */
    private record Entry(String name, TensorDType dtype, long[] shape, long begin, long end) {
    }

    /**
     * All tensors in header order.
     *
     * @throws IOException naming the file and the problem if it is not a well-formed safetensors file
     */
    public static Map<String, TorchTensor> read(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new IOException(path + " is too short for a safetensors file (" + size + " bytes)");
            }
            long headerLength = readFully(ch, 0, 8, path).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (headerLength < 2 || headerLength > size - 8 || headerLength > MAX_HEADER_BYTES) {
                throw new IOException(path + " is not a valid safetensors file: its header claims "
                        + Long.toUnsignedString(headerLength) + " bytes, the file has " + size + " bytes"
                        + (headerLength > MAX_HEADER_BYTES ? " (at most " + MAX_HEADER_BYTES + " are read)" : "")
                        + ": truncated or not safetensors");
            }
            byte[] header = readFully(ch, 8, (int) headerLength, path).array();
            long dataStart = 8 + headerLength;
            List<Entry> entries = parseHeader(header, size - dataStart, path);
            Map<String, TorchTensor> out = new LinkedHashMap<>();
            for (Entry e : entries) {
                ByteBuffer raw = readFully(ch, dataStart + e.begin(), (int) (e.end() - e.begin()), path)
                        .order(ByteOrder.LITTLE_ENDIAN);
                out.put(e.name(), new TorchTensor(e.name(), e.shape(),
                        e.dtype().decode(raw, (int) ((e.end() - e.begin()) / e.dtype().bytes))));
            }
            return out;
        }
    }

    private static ByteBuffer readFully(FileChannel ch, long position, int length, Path path) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        while (buf.hasRemaining()) {
            if (ch.read(buf, position + buf.position()) < 0) {
                throw new IOException(path + " is truncated: expected " + length + " bytes at offset " + position);
            }
        }
        return buf.flip();
    }

    private static List<Entry> parseHeader(byte[] header, long dataLength, Path path) throws IOException {
        List<Entry> entries = new ArrayList<>();
        try (JsonParser p = new JsonFactory()
                .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).createParser(header)) {
            expect(p.nextToken(), JsonToken.START_OBJECT, "the header", path);
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.getCurrentName();
                JsonToken value = p.nextToken();
                if (name.equals("__metadata__")) {
                    p.skipChildren();
                    continue;
                }
                expect(value, JsonToken.START_OBJECT, "tensor '" + name + "'", path);
                entries.add(parseEntry(p, name, dataLength, path));
            }
            expect(p.getCurrentToken(), JsonToken.END_OBJECT, "the header", path);
        } catch (org.nd4j.shade.jackson.core.JsonProcessingException e) {
            throw new IOException(path + " has a malformed safetensors header: " + e.getOriginalMessage());
        }
        return entries;
    }

    private static Entry parseEntry(JsonParser p, String name, long dataLength, Path path) throws IOException {
        String dtype = null;
        long[] shape = null;
        long[] offsets = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.getCurrentName();
            JsonToken value = p.nextToken();
            switch (field) {
                case "dtype" -> {
                    expect(value, JsonToken.VALUE_STRING, "the dtype of '" + name + "'", path);
                    dtype = p.getText();
                }
                case "shape" -> shape = longs(p, value, "the shape of '" + name + "'", path);
                case "data_offsets" -> offsets = longs(p, value, "the data_offsets of '" + name + "'", path);
                default -> p.skipChildren();
            }
        }
        if (dtype == null || shape == null || offsets == null || offsets.length != 2) {
            throw new IOException("tensor '" + name + "' in " + path + " lacks dtype, shape or a [begin, end] "
                    + "data_offsets pair");
        }
        TensorDType type;
        try {
            type = TensorDType.valueOf(dtype);
        } catch (IllegalArgumentException e) {
            throw new IOException("tensor '" + name + "' in " + path + " has dtype " + dtype
                    + "; only F32, F16, BF16, F64 and I64 are read");
        }
        KerasWeightFile.requirePlausibleSize(shape, name, path);
        long count = 1;
        for (long d : shape) {
            count *= d;
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (begin < 0 || end < begin || end > dataLength || end - begin != count * type.bytes
                || end - begin > Integer.MAX_VALUE - 8) {
            throw new IOException("tensor '" + name + "' in " + path + " claims bytes [" + begin + ", " + end
                    + ") for " + count + " " + dtype + " values (" + count * type.bytes + " bytes), but the data "
                    + "section has " + dataLength + " bytes: truncated or damaged");
        }
        return new Entry(name, type, shape, begin, end);
    }

    private static long[] longs(JsonParser p, JsonToken start, String what, Path path) throws IOException {
        expect(start, JsonToken.START_ARRAY, what, path);
        List<Long> values = new ArrayList<>();
        for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
            if (t != JsonToken.VALUE_NUMBER_INT || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                    || values.size() > 64) {
                throw new IOException(what + " in " + path + " is not a short list of integers");
            }
            values.add(p.getLongValue());
        }
        return values.stream().mapToLong(Long::longValue).toArray();
    }

    private static void expect(JsonToken actual, JsonToken expected, String what, Path path) throws IOException {
        if (actual != expected) {
            throw new IOException(what + " in " + path + " is malformed: expected " + expected + ", found " + actual);
        }
    }

    /** Whether the file starts like a safetensors file (a plausible header length, then '{'). */
    static boolean looksLikeSafetensors(Path path) throws IOException {
        try (var in = Files.newInputStream(path)) {
            byte[] head = in.readNBytes(9);
            if (head.length < 9) {
                return false;
            }
            long n = ByteBuffer.wrap(head, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            return n > 0 && head[8] == '{';
        }
    }
}
