package io.efficientnet.core.weights;

import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.model.Padding;
import io.efficientnet.core.model.Variant;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Reading {@code .pth} and {@code .safetensors} files: values, strides and element types against PyTorch, files that
 * would run code or claim absurd sizes, and tensors that do not fit the network. Reference files from
 * {@code scripts/make-pytorch-references.py}.
 */
class PyTorchFilesTest {

    @TempDir
    Path dir;

    static Path resource(String name) throws Exception {
        return PyTorchImportTest.resource(name);
    }

    @Test
    void offsetsStridesAndElementTypesMatchTorch() throws Exception {
        JsonNode expected = new ObjectMapper().readTree(Files.readString(resource("tensors.json")));
        for (String file : new String[] {"tensors.pth", "tensors.safetensors"}) {
            Map<String, TorchTensor> tensors = PyTorchWeights.readTensors(resource(file));
            assertEquals(expected.size(), tensors.size(), file);
            expected.fields().forEachRemaining(e -> {
                TorchTensor t = tensors.get(e.getKey());
                long[] shape = new long[e.getValue().get("shape").size()];
                float[] values = new float[e.getValue().get("values").size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = e.getValue().get("shape").get(i).asLong();
                }
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) e.getValue().get("values").get(i).asDouble();
                }
                assertArrayEquals(shape, t.shape(), file + " " + e.getKey());
                assertArrayEquals(values, t.data(), file + " " + e.getKey());
            });
        }
    }

    /** A torch.save zip whose data.pkl is {@code pickle}. */
    private Path torchZip(String name, byte[] pickle) throws IOException {
        Path file = dir.resolve(name);
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(file))) {
            zip.putNextEntry(new ZipEntry("archive/data.pkl"));
            zip.write(pickle);
            zip.putNextEntry(new ZipEntry("archive/version"));
            zip.write("3\n".getBytes(StandardCharsets.US_ASCII));
        }
        return file;
    }

    /** Protocol 2: {@code module.name("echo pwned")}, the shape of any code-running pickle. */
    private static byte[] callPickle(String module, String name) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0x80);
        b.write(2);
        b.writeBytes(("c" + module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
        byte[] arg = "echo pwned".getBytes(StandardCharsets.US_ASCII);
        b.write('X');
        b.writeBytes(new byte[] {(byte) arg.length, 0, 0, 0});
        b.writeBytes(arg);
        b.write(0x85); // TUPLE1
        b.write('R'); // REDUCE
        b.write('.');
        return b.toByteArray();
    }

    @Test
    void picklesReferencingOtherGlobalsAreRefusedByName() throws Exception {
        Path evil = torchZip("evil.pth", callPickle("os", "system"));
        IOException e = assertThrows(IOException.class, () -> PyTorchWeights.load(evil));
        assertTrue(e.getMessage().contains("'os.system'") && e.getMessage().contains("evil.pth"), e.getMessage());

        Path bytes = torchZip("bytes.pth", callPickle("torch.storage", "_load_from_bytes"));
        e = assertThrows(IOException.class, () -> PyTorchWeights.load(bytes));
        assertTrue(e.getMessage().contains("'torch.storage._load_from_bytes'"), e.getMessage());

        // an allowed global called in a way a state_dict never does
        Path odd = torchZip("odd.pth", callPickle("collections", "OrderedDict"));
        e = assertThrows(IOException.class, () -> PyTorchWeights.load(odd));
        assertTrue(e.getMessage().contains("odd.pth"), e.getMessage());

        Path cut = torchZip("cut.pth", Arrays.copyOf(callPickle("collections", "OrderedDict"), 20));
        e = assertThrows(IOException.class, () -> PyTorchWeights.load(cut));
        assertTrue(e.getMessage().contains("truncated or malformed pickle"), e.getMessage());
    }

    @Test
    void safetensorsHeadersThatDoNotFitTheFileAreRefused() throws Exception {
        Path real = resource("efficientnet-tiny-torchvision.safetensors");
        byte[] all = Files.readAllBytes(real);

        Path truncated = dir.resolve("truncated.safetensors");
        Files.write(truncated, Arrays.copyOf(all, all.length / 2));
        IOException e = assertThrows(IOException.class, () -> PyTorchWeights.load(truncated));
        assertTrue(e.getMessage().contains("truncated.safetensors") && e.getMessage().contains("claims bytes"),
                e.getMessage());

        Path headerCut = dir.resolve("header-cut.safetensors");
        Files.write(headerCut, Arrays.copyOf(all, 200));
        e = assertThrows(IOException.class, () -> SafetensorsFile.read(headerCut));
        assertTrue(e.getMessage().contains("header claims"), e.getMessage());

        Path huge = dir.resolve("huge.safetensors");
        SafetensorsWriter.writeRaw(huge, Long.MIN_VALUE + 5, "{}", new byte[0]);
        e = assertThrows(IOException.class, () -> SafetensorsFile.read(huge));
        assertTrue(e.getMessage().contains("header claims 9223372036854775813 bytes"), e.getMessage());

        String big = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1048576,1048576],\"data_offsets\":[0,4398046511104]}}";
        Path shape = dir.resolve("shape.safetensors");
        SafetensorsWriter.writeRaw(shape, big.length(), big, new byte[16]);
        e = assertThrows(IOException.class, () -> SafetensorsFile.read(shape));
        assertTrue(e.getMessage().contains("claims shape [1048576, 1048576]"), e.getMessage());

        String beyond = "{\"w\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]}}";
        Path past = dir.resolve("past.safetensors");
        SafetensorsWriter.writeRaw(past, beyond.length(), beyond, new byte[16]);
        e = assertThrows(IOException.class, () -> SafetensorsFile.read(past));
        assertTrue(e.getMessage().contains("data section has 16 bytes"), e.getMessage());

        String int8 = "{\"w\":{\"dtype\":\"I8\",\"shape\":[4],\"data_offsets\":[0,4]}}";
        Path i8 = dir.resolve("i8.safetensors");
        SafetensorsWriter.writeRaw(i8, int8.length(), int8, new byte[4]);
        e = assertThrows(IOException.class, () -> SafetensorsFile.read(i8));
        assertTrue(e.getMessage().contains("dtype I8"), e.getMessage());

        String json = "{\"w\":[[[[";
        Path bad = dir.resolve("bad.safetensors");
        SafetensorsWriter.writeRaw(bad, json.length(), json, new byte[0]);
        e = assertThrows(IOException.class, () -> SafetensorsFile.read(bad));
        assertTrue(e.getMessage().contains("bad.safetensors"), e.getMessage());

        Path text = dir.resolve("notes.pth");
        Files.writeString(text, "not weights");
        e = assertThrows(IOException.class, () -> PyTorchWeights.load(text));
        assertTrue(e.getMessage().contains("neither a torch.save zip"), e.getMessage());
        e = assertThrows(IOException.class, () -> PyTorchWeights.load(dir.resolve("missing.pth")));
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }

    /** The tiny torchvision tensors with {@code edit} applied, as a safetensors file. */
    private Path edited(String name, java.util.function.Consumer<Map<String, TorchTensor>> edit) throws Exception {
        Map<String, TorchTensor> t = new LinkedHashMap<>(
                SafetensorsFile.read(resource("efficientnet-tiny-torchvision.safetensors")));
        edit.accept(t);
        Path file = dir.resolve(name);
        SafetensorsWriter.write(file, t);
        return file;
    }

    @Test
    void tensorsThatDoNotFitTheNetworkAreNamed() throws Exception {
        ComputationGraph net = PyTorchImportTest.tiny().padding(Padding.SYMMETRIC).batchNormEpsilon(1e-5)
                .numClasses(10).build().init();
        INDArray before = net.params().dup();

        String dw = "features.3.0.block.1.0.weight"; // block3a's 5x5 depthwise kernel
        Path wrongShape = edited("wrong-shape.safetensors",
                t -> t.put(dw, new TorchTensor(dw, new long[] {48, 1, 3, 3}, new float[48 * 9])));
        IOException e = assertThrows(IOException.class,
                () -> PyTorchWeights.load(wrongShape).importInto(net, "b0"));
        assertTrue(e.getMessage().contains("'block3a_dwconv/depthwise_kernel' (from features.3.0.block.1.0)")
                && e.getMessage().contains("[3, 3, 48, 1]") && e.getMessage().contains("[5, 5, 48, 1]"),
                e.getMessage());

        Path rank = edited("rank.safetensors", t -> t.put(dw, new TorchTensor(dw, new long[] {48, 25},
                new float[48 * 25])));
        e = assertThrows(IOException.class, () -> PyTorchWeights.load(rank));
        assertTrue(e.getMessage().contains(dw) && e.getMessage().contains("block3a_dwconv"), e.getMessage());

        Path extra = edited("extra.safetensors", t -> t.put("features.3.0.block.7.0.weight",
                new TorchTensor("features.3.0.block.7.0.weight", new long[] {1}, new float[1])));
        e = assertThrows(IOException.class, () -> PyTorchWeights.load(extra));
        assertTrue(e.getMessage().contains("not part of a torchvision EfficientNet-B: features.3.0.block.7.0.weight"),
                e.getMessage());

        Path missing = edited("missing.safetensors",
                t -> t.keySet().removeIf(n -> n.startsWith("features.4.1.block.1.")));
        e = assertThrows(IOException.class, () -> PyTorchWeights.load(missing).importInto(net, "b0"));
        assertTrue(e.getMessage().contains("'block4b_dwconv' is missing"), e.getMessage());

        // weights for a block the (shallower) network lacks
        ComputationGraph shallow = PyTorchImportTest.tiny().depthMultiplier(0.25).padding(Padding.SYMMETRIC)
                .batchNormEpsilon(1e-5).numClasses(10).build().init();
        e = assertThrows(IOException.class, () -> PyTorchWeights.load(
                resource("efficientnet-tiny-torchvision.pth")).importInto(shallow, "b0"));
        assertTrue(e.getMessage().contains("block4b_bn (from features.4.1.block.1.1)"), e.getMessage());

        Path bias = edited("bias.safetensors", t -> t.put("features.0.0.bias",
                new TorchTensor("features.0.0.bias", new long[] {8}, new float[8])));
        e = assertThrows(IOException.class, () -> PyTorchWeights.load(bias).importInto(net, "b0"));
        assertTrue(e.getMessage().contains("'stem_conv' (from features.0.0)") && e.getMessage().contains("[bias]"),
                e.getMessage());

        e = assertThrows(IOException.class, () -> PyTorchWeights.load(
                resource("efficientnet-tiny-torchvision.pth"), PyTorchFamily.TIMM));
        assertTrue(e.getMessage().contains("has torchvision tensor names, not timm's"), e.getMessage());

        ComputationGraph same = PyTorchImportTest.tiny().numClasses(10).build().init(); // TF-SAME, eps 1e-3
        e = assertThrows(IOException.class, () -> PyTorchWeights.load(
                resource("efficientnet-tiny-torchvision.pth")).importInto(same, "b0"));
        assertTrue(e.getMessage().contains("need symmetric padding, batch-norm eps 1e-5"), e.getMessage());

        assertEquals(before, net.params(), "failed imports leave the network untouched");
    }

    @Test
    void dataParallelPrefixIsStripped() throws Exception {
        Path prefixed = edited("data-parallel.safetensors", t -> {
            Map<String, TorchTensor> copy = new LinkedHashMap<>();
            t.values().forEach(v -> copy.put("module." + v.name(),
                    new TorchTensor("module." + v.name(), v.shape(), v.data())));
            t.clear();
            t.putAll(copy);
        });
        PyTorchWeights w = PyTorchWeights.load(prefixed);
        ComputationGraph net = PyTorchImportTest.tiny().matching(w).build().init();
        w.importInto(net, "b0");
        PyTorchWeights plain = PyTorchWeights.load(resource("efficientnet-tiny-torchvision.safetensors"));
        ComputationGraph expected = PyTorchImportTest.tiny().matching(plain).build().init();
        plain.importInto(expected, "b0");
        assertEquals(expected.params(), net.params());
    }

    @Test
    void fullSizeVariantRoundTripsThroughTorchvisionNames() throws Exception {
        // B1: stage 1 has two blocks without expansion, deeper stages three to five repeats
        EfficientNet model = EfficientNet.builder().variant(Variant.B1).resolution(64).padding(Padding.SYMMETRIC)
                .batchNormEpsilon(1e-5).seed(3).build();
        ComputationGraph source = model.init();
        Nd4j.getRandom().setSeed(5);
        for (var layer : source.getLayers()) {
            if (layer.paramTable().containsKey("log10stdev")) {
                layer.getParam("mean").assign(Nd4j.randn(layer.getParam("mean").shape()).muli(0.1));
                layer.getParam("log10stdev").assign(Nd4j.rand(layer.getParam("log10stdev").shape()).muli(0.2)
                        .subi(0.1));
            }
        }
        Path file = dir.resolve("b1.safetensors");
        SafetensorsWriter.write(file, TorchvisionStateDict.of(model, source));
        PyTorchWeights w = PyTorchWeights.load(file);
        assertEquals(Variant.B1, w.variant());
        assertTrue(w.description().startsWith("detected torchvision EfficientNet-B1 weights"), w.description());
        ComputationGraph target = EfficientNet.builder().variant(Variant.B1).resolution(64).matching(w).build()
                .init();
        w.importInto(target, "b1");
        INDArray x = Nd4j.randn(2, 3, 64, 64);
        INDArray expected = source.outputSingle(x);
        assertTrue(KerasImportTest.relError(target.outputSingle(x), expected) < 1e-5);

        ComputationGraph b0 = EfficientNet.builder().variant(Variant.B0).resolution(64).matching(w).build().init();
        IOException e = assertThrows(IOException.class, () -> w.importInto(b0, "b0"));
        assertTrue(e.getMessage().contains("this looks like B1 weights, not B0"), e.getMessage());
    }

    @Test
    void torchvisionBuildsB5ToB7WithEpsilon1e3() {
        assertEquals(1e-5, PyTorchFamily.TORCHVISION.batchNormEpsilon(Variant.B4));
        assertEquals(1e-3, PyTorchFamily.TORCHVISION.batchNormEpsilon(Variant.B5));
        assertEquals("symmetric padding, batch-norm eps 1e-3", PyTorchFamily.TORCHVISION.settings(Variant.B7));
        assertEquals(1e-5, PyTorchFamily.TORCHVISION.batchNormEpsilon(null), "custom widths: torchvision's default");
        assertEquals(1e-5, PyTorchFamily.TIMM.batchNormEpsilon(Variant.B7));
        assertEquals(1e-3, PyTorchFamily.TIMM_TF.batchNormEpsilon(Variant.B0));
        assertEquals(PyTorchFamily.TIMM_TF, PyTorchFamily.parse("timm_tf"));
    }

    @Test
    void halfPrecisionDecodesExactly() {
        assertEquals(1.0f, TensorDType.halfToFloat((short) 0x3c00));
        assertEquals(-2.0f, TensorDType.halfToFloat((short) 0xc000));
        assertEquals(65504f, TensorDType.halfToFloat((short) 0x7bff));
        assertEquals(0x1p-24f, TensorDType.halfToFloat((short) 0x0001));
        assertEquals(Float.NEGATIVE_INFINITY, TensorDType.halfToFloat((short) 0xfc00));
        assertTrue(Float.isNaN(TensorDType.halfToFloat((short) 0x7e00)));
    }
}
