package io.efficientnet.core.weights;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;

/** Writes float32 tensors as a {@code .safetensors} file, and raw files with a given header for the error tests. */
public final class SafetensorsWriter {

    private SafetensorsWriter() {
    }

    /** All tensors as F32, in map order. */
    public static void write(Path path, Map<String, TorchTensor> tensors) throws IOException {
        StringBuilder header = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        for (TorchTensor t : tensors.values()) {
            long end = offset + 4L * t.data().length;
            header.append(",\"").append(t.name()).append("\":{\"dtype\":\"F32\",\"shape\":[")
                    .append(Arrays.stream(t.shape()).mapToObj(Long::toString).collect(Collectors.joining(",")))
                    .append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
            offset = end;
        }
        header.append('}');
        ByteBuffer data = ByteBuffer.allocate((int) offset).order(ByteOrder.LITTLE_ENDIAN);
        for (TorchTensor t : tensors.values()) {
            for (float f : t.data()) {
                data.putFloat(f);
            }
        }
        writeRaw(path, header.toString().getBytes(StandardCharsets.UTF_8).length, header.toString(), data.array());
    }

    /** A file claiming {@code headerLength}, then {@code header} and {@code data} as they are. */
    public static void writeRaw(Path path, long headerLength, String header, byte[] data) throws IOException {
        try (OutputStream out = Files.newOutputStream(path)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(headerLength).array());
            out.write(header.getBytes(StandardCharsets.UTF_8));
            out.write(data);
        }
    }
}
