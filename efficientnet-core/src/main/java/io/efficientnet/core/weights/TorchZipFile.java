package io.efficientnet.core.weights;

import io.efficientnet.core.weights.RestrictedUnpickler.StorageRef;
import io.efficientnet.core.weights.RestrictedUnpickler.TensorRef;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * Reads a {@code state_dict} saved by {@code torch.save} (PyTorch 1.6 and later): a zip holding
 * {@code <name>/data.pkl}, the pickled dict whose tensors point at storages, and {@code <name>/data/<key>}, each
 * storage's raw elements (little-endian unless {@code <name>/byteorder} says otherwise). The pickle is read by
 * {@link RestrictedUnpickler}, which runs nothing and refuses any global a state_dict does not use. Tensors honour
 * their storage offset and strides; all are converted to float32.
 */
public final class TorchZipFile {

    /** Largest {@code data.pkl} read (a B7 state_dict's is about 100 KB). */
    static final long MAX_PICKLE_BYTES = 16L << 20;

    private TorchZipFile() {
    }

    /**
     * All tensors of the state_dict in file order. A checkpoint dict whose {@code state_dict} or {@code model} entry
     * is the state_dict is accepted too.
     *
     * @throws IOException naming the file if it is not a torch.save zip, references a refused global, or is damaged
     */
    public static Map<String, TorchTensor> read(Path path) throws IOException {
        try (ZipFile zip = new ZipFile(path.toFile())) {
            ZipEntry pickle = null;
            for (ZipEntry e : Collections.list(zip.entries())) {
                String n = e.getName();
                if (n.endsWith("/data.pkl") && n.indexOf('/') == n.length() - "/data.pkl".length()) {
                    pickle = e;
                }
            }
            if (pickle == null) {
                throw new IOException(path + " is a zip file but not a state_dict saved by torch.save (no "
                        + "<name>/data.pkl entry)");
            }
            String prefix = pickle.getName().substring(0, pickle.getName().length() - "data.pkl".length());
            String source = path + "!" + pickle.getName();
            Object root = RestrictedUnpickler.load(bytes(zip, pickle, MAX_PICKLE_BYTES, path), source);
            ByteOrder order = byteOrder(zip, prefix, path);
            Map<String, float[]> storages = new HashMap<>();
            Map<String, TorchTensor> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : stateDict(root, source).entrySet()) {
                if (!(e.getKey() instanceof String name) || !(e.getValue() instanceof TensorRef t)) {
                    throw new IOException(source + ": entry '" + e.getKey() + "' is not a tensor; expected a "
                            + "state_dict (tensor names to tensors)");
                }
                float[] storage = storages.get(t.storage().key());
                if (storage == null) {
                    storage = storage(zip, prefix, t.storage(), order, path);
                    storages.put(t.storage().key(), storage);
                }
                out.put(name, new TorchTensor(name, t.size(), view(storage, t, name, path)));
            }
            return out;
        } catch (ZipException e) {
            throw new IOException(path + " is a damaged or truncated zip file: " + e.getMessage(), e);
        }
    }

    private static Map<?, ?> stateDict(Object root, String source) throws IOException {
        if (!(root instanceof Map<?, ?> m)) {
            throw new IOException(source + " holds a " + (root == null ? "None" : root.getClass().getSimpleName())
                    + ", not a state_dict: save model.state_dict()");
        }
        if (!m.values().stream().allMatch(TensorRef.class::isInstance)) {
            for (String key : new String[] {"state_dict", "model"}) {
                if (m.get(key) instanceof Map<?, ?> inner) {
                    return inner;
                }
            }
        }
        return m;
    }

    private static ByteOrder byteOrder(ZipFile zip, String prefix, Path path) throws IOException {
        ZipEntry e = zip.getEntry(prefix + "byteorder");
        if (e == null) {
            return ByteOrder.LITTLE_ENDIAN;
        }
        String text = new String(bytes(zip, e, 16, path), StandardCharsets.US_ASCII).trim();
        return text.equals("big") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
    }

    private static float[] storage(ZipFile zip, String prefix, StorageRef ref, ByteOrder order, Path path)
            throws IOException {
        ZipEntry e = zip.getEntry(prefix + "data/" + ref.key());
        if (e == null) {
            throw new IOException(path + " lacks the storage entry " + prefix + "data/" + ref.key());
        }
        KerasWeightFile.requirePlausibleSize(new long[] {ref.numel()}, "storage " + ref.key(), path);
        long expected = ref.numel() * ref.dtype().bytes;
        if (e.getSize() >= 0 && e.getSize() != expected) {
            throw new IOException("storage " + e.getName() + " in " + path + " has " + e.getSize() + " bytes, its "
                    + ref.numel() + " " + ref.dtype() + " elements need " + expected);
        }
        ByteBuffer raw = ByteBuffer.wrap(bytes(zip, e, expected, path)).order(order);
        if (raw.remaining() != expected) {
            throw new IOException("storage " + e.getName() + " in " + path + " is truncated");
        }
        return ref.dtype().decode(raw, (int) ref.numel());
    }

    /** At most {@code limit} bytes of an entry (refusing a larger one). */
    private static byte[] bytes(ZipFile zip, ZipEntry e, long limit, Path path) throws IOException {
        if (e.getSize() > limit) {
            throw new IOException(e.getName() + " in " + path + " has " + e.getSize() + " bytes, more than the "
                    + limit + " read");
        }
        try (InputStream in = zip.getInputStream(e)) {
            byte[] b = in.readNBytes((int) limit);
            if (in.read() >= 0) {
                throw new IOException(e.getName() + " in " + path + " has more than the " + limit + " bytes read");
            }
            return b;
        }
    }

    /** The tensor's elements in row-major order, gathered from its storage by offset and strides. */
    static float[] view(float[] storage, TensorRef t, String name, Path path) throws IOException {
        long[] size = t.size();
        long[] stride = t.stride();
        KerasWeightFile.requirePlausibleSize(size, name, path);
        long count = 1;
        long last = t.offset();
        boolean contiguous = true;
        long expectedStride = 1;
        for (int d = size.length - 1; d >= 0 && stride.length == size.length; d--) {
            count *= size[d];
            last += (size[d] - 1) * Math.min(stride[d], storage.length + 1L);
            contiguous &= size[d] == 1 || stride[d] == expectedStride;
            expectedStride *= size[d];
        }
        if (stride.length != size.length || t.offset() < 0 || t.offset() > storage.length
                || Arrays.stream(stride).anyMatch(s -> s < 0 || s > storage.length)
                || (count > 0 && last >= storage.length)) {
            throw new IOException("tensor '" + name + "' in " + path + " (size " + Arrays.toString(size) + ", stride "
                    + Arrays.toString(stride) + ", offset " + t.offset() + ") does not fit its storage of "
                    + storage.length + " elements");
        }
        float[] out = new float[(int) count];
        if (contiguous) {
            System.arraycopy(storage, (int) t.offset(), out, 0, out.length);
            return out;
        }
        long[] index = new long[size.length];
        long pos = t.offset();
        for (int i = 0; i < out.length; i++) {
            out[i] = storage[(int) pos];
            for (int d = size.length - 1; d >= 0; d--) {
                if (++index[d] < size[d]) {
                    pos += stride[d];
                    break;
                }
                pos -= (size[d] - 1) * stride[d];
                index[d] = 0;
            }
        }
        return out;
    }
}
