package io.efficientnet.cli;

import org.junit.jupiter.api.Test;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** {@code efficientnet benchmark} on a tiny network: JSON fields, profile, and bad values. */
class BenchmarkCommandTest {

    static final String[] TINY = {"--phi", "-3", "--resolution", "32", "--batch-size", "2", "--warmup", "1",
            "--iterations", "2"};

    static JsonNode json(String... args) throws Exception {
        String[] all = new String[args.length + TINY.length + 2];
        all[0] = "benchmark";
        System.arraycopy(TINY, 0, all, 1, TINY.length);
        System.arraycopy(args, 0, all, 1 + TINY.length, args.length);
        all[all.length - 1] = "--json";
        Object[] r = SummaryCommandTest.run(all);
        assertEquals(0, r[0], (String) r[2]);
        return new ObjectMapper().readTree((String) r[1]);
    }

    @Test
    void autoTimesOneDnnWhereItRunsAndDl4jWhereItCannotSayingWhy() throws Exception {
        assertTrue(json("--mode", "inference").get("engine").asText().startsWith("oneDNN"), "auto is oneDNN on CPU");
        assertTrue(json("--mode", "train").get("engine").asText().startsWith("oneDNN"), "training too");
        assertEquals("DL4J", json("--mode", "inference", "--engine", "dl4j").get("engine").asText());
        Object[] r = SummaryCommandTest.run(concat(new String[] {"benchmark"}, concat(TINY, new String[] {"--mode",
                "train", "--data-type", "float64", "--json"})));
        assertEquals(0, r[0], (String) r[2]);
        assertEquals("DL4J", new ObjectMapper().readTree((String) r[1]).get("engine").asText());
        assertTrue(((String) r[2]).contains("note: training runs in DL4J (the network is DOUBLE; the oneDNN engine "
                + "runs float32)"), (String) r[2]);
    }

    @Test
    void aRestoredModelIsConvertedToTheRequestedDataType(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        java.nio.file.Path zip = tmp.resolve("tiny.zip");
        io.efficientnet.core.weights.ModelZip.write(io.efficientnet.core.EfficientNet.builder().phi(-3).resolution(32)
                .numClasses(3).build().init(), zip, false, null);
        Object[] r = SummaryCommandTest.run("benchmark", "--model", zip.toString(), "--resolution", "32",
                "--batch-size", "2", "--warmup", "0", "--iterations", "1", "--data-type", "float64", "--json");
        assertEquals(0, r[0], (String) r[2]);
        JsonNode j = new ObjectMapper().readTree((String) r[1]);
        assertEquals("float64", j.get("dataType").asText());
        assertTrue(j.get("imagesPerSecondMedian").asDouble() > 0);
        r = SummaryCommandTest.run("benchmark", "--data", tmp.toString(), "--data-type", "float16");
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("--data times the image pipeline, which always produces float32"),
                (String) r[2]);
    }

    @Test
    void dataTypeIsSelectableAndReported() throws Exception {
        assertEquals("float32", json("--mode", "inference").get("dataType").asText());
        JsonNode half = json("--mode", "train", "--data-type", "float16");
        assertEquals("float16", half.get("dataType").asText());
        assertTrue(half.get("imagesPerSecondMedian").asDouble() > 0);
        Object[] bad = SummaryCommandTest.run("benchmark", "--phi", "-3", "--resolution", "32", "--data-type",
                "bfloat16");
        assertEquals(2, bad[0]);
        assertTrue(((String) bad[2]).contains("--data-type must be float32, float16 or float64, got 'bfloat16'"),
                (String) bad[2]);
    }

    @Test
    void oneDnnEngineIsTimedAfterItsOutputIsChecked() throws Exception {
        // the benchmark checks the engine's output against net.output and fails otherwise
        JsonNode j = json("--mode", "inference", "--engine", "onednn");
        assertTrue(j.get("imagesPerSecondMedian").asDouble() > 0);
        assertEquals(2, j.get("iterationMs").size());
        assertTrue(j.get("engine").asText().startsWith("oneDNN 2.5.2"), j.toString());
        assertTrue(j.get("oneDnnPrimitives").asText().contains("jit"), j.toString());
        assertTrue(j.get("oneDnnIsa").asText().matches("avx512.*|avx2.*|avx|sse41"), j.toString());
        assertEquals(0, j.get("oneDnnReferenceKernels").size(), j.toString());
        // the one generic kernel an inference plan may have: the copy of the [N, classes] output into its array
        assertTrue(j.get("oneDnnGenericKernels").asText().matches("(simple:any ×1)?"), j.toString());
        assertTrue(j.get("oneDnnActivationMiB").asDouble() > 0, j.toString());
        // training steps: the benchmark checks the engine's loss against DL4J's after timing
        JsonNode t = json("--mode", "train", "--engine", "onednn");
        assertTrue(t.get("imagesPerSecondMedian").asDouble() > 0);
        assertTrue(t.get("engine").asText().contains("OneDnnTraining"), t.toString());
        assertEquals(0, t.get("oneDnnReferenceKernels").size(), t.toString());
        assertTrue(t.get("optimizer").asText().contains("SGD"), t.toString());
        for (String[] bad : new String[][] {{"--engine", "onednn", "--profile"}, {"--profile"}}) {
            Object[] r = SummaryCommandTest.run(concat(new String[] {"benchmark", "--phi", "-3", "--resolution", "32"},
                    bad));
            assertEquals(2, r[0], String.join(" ", bad));
            assertTrue(((String) r[2]).contains("--profile times DL4J's layers: add --engine dl4j"), (String) r[2]);
        }
        Object[] r = SummaryCommandTest.run("benchmark", "--engine", "tensorflow");
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("--engine must be one of auto, onednn, dl4j, got 'tensorflow'"),
                (String) r[2]);
        r = SummaryCommandTest.run("benchmark", "--phi", "-3", "--resolution", "32", "--engine", "onednn",
                "--data-type", "float64");
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("the oneDNN engine cannot run this network's inference: the network is "
                + "DOUBLE"), (String) r[2]);
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Test
    void inferenceJsonHasSaneFields() throws Exception {
        JsonNode j = json("--mode", "inference");
        assertEquals("efficientnet-phi-3", j.get("model").asText());
        assertEquals("inference", j.get("mode").asText());
        assertEquals(2, j.get("batchSize").asInt());
        assertEquals("[3,32,32]", j.get("inputShape").toString());
        assertTrue(j.get("params").asLong() > 100_000);
        assertEquals(1, j.get("warmup").asInt());
        assertEquals(2, j.get("iterations").asInt());
        assertEquals(42, j.get("seed").asLong());
        assertTrue(j.get("optimizer").isNull(), "no optimizer for inference");
        double median = j.get("imagesPerSecondMedian").asDouble();
        assertTrue(median > 0);
        assertTrue(j.get("imagesPerSecondMin").asDouble() <= median);
        assertTrue(median <= j.get("imagesPerSecondMax").asDouble());
        assertEquals(2, j.get("iterationMs").size());
        double ms = j.get("iterationMsMedian").asDouble();
        assertEquals((j.get("iterationMs").get(0).asDouble() + j.get("iterationMs").get(1).asDouble()) / 2, ms, 1e-9);
        // images/s of each iteration is batch / time: the fastest iteration gives the maximum
        assertEquals(2000 / j.get("iterationMsMin").asDouble(), j.get("imagesPerSecondMax").asDouble(), 1e-6);

        JsonNode mem = j.get("memory");
        assertTrue(mem.get("peakHeapBytes").asLong() > 1 << 20, mem.toString());
        assertTrue(mem.get("peakRssBytes").asLong() > 50L << 20, "RSS of a JVM with ND4J: " + mem);
        assertTrue(mem.get("peakJavacppBytes").asLong() >= 0);
        assertTrue(mem.get("peakWorkspaceBytes").asLong() >= 0);
        assertTrue(mem.get("samples").asLong() >= 4, "sampled at start, after each iteration and at the end");
        assertTrue(mem.get("method").asText().contains("MemoryPoolMXBean"));
        assertTrue(mem.get("method").asText().contains("Pointer.physicalBytes"));

        JsonNode be = j.get("backend");
        assertEquals("CPU", be.get("backend").asText());
        assertTrue(be.get("nativeBuild").asText().startsWith("linux-x86_64"), be.toString());
        assertTrue(be.get("nativeLibrary").asText().contains("nd4j"), be.toString());
        assertTrue(be.get("ompThreads").asInt() >= 1, be.toString());
        assertTrue(be.get("nd4jMaxThreads").asInt() >= 1, be.toString());
        assertTrue(be.get("nd4jMaxMasterThreads").asInt() >= 1, be.toString());
        assertEquals(System.getenv("OMP_NUM_THREADS"), be.get("OMP_NUM_THREADS").isNull() ? null
                : be.get("OMP_NUM_THREADS").asText());
        assertTrue(be.get("availableProcessors").asInt() >= 1);
        assertTrue(j.get("profile").isNull());
    }

    @Test
    void trainJsonWithProfile() throws Exception {
        JsonNode j = json("--mode", "train", "--num-classes", "5", "--profile", "--engine", "dl4j", "--learning-rate", "0.05");
        assertEquals("train", j.get("mode").asText());
        assertTrue(j.get("optimizer").asText().startsWith("SGD, learning rate 0.05"), j.get("optimizer").asText());
        assertTrue(j.get("imagesPerSecondMedian").asDouble() > 0);
        JsonNode p = j.get("profile");
        assertEquals("fit", p.get("pass").asText());
        assertEquals(2, p.get("steps").asInt());
        assertTrue(p.get("method").asText().contains("TRACE"));
        Map<String, JsonNode> cats = new HashMap<>();
        double sum = 0;
        for (JsonNode c : p.get("categories")) {
            cats.put(c.get("category").asText(), c);
            assertTrue(c.get("forwardMs").asDouble() >= 0 && c.get("backwardMs").asDouble() >= 0, c.toString());
            sum += c.get("forwardMs").asDouble() + c.get("backwardMs").asDouble();
        }
        for (String expected : new String[] {"conv 1x1", "conv kxk (stem)", "depthwise conv", "batch norm",
                "batch norm + swish (fused)", "SE 1x1 convs (on pooled 1x1 maps)", "SE channel-scale vertex", "pooling",
                "dropout / drop-path", "skip add", "dense / output layer + loss"}) {
            assertTrue(cats.containsKey(expected), expected + " in " + cats.keySet());
        }
        assertEquals(1, cats.get("conv kxk (stem)").get("vertices").asInt());
        assertEquals(1, cats.get("dense / output layer + loss").get("vertices").asInt());
        assertTrue(cats.get("depthwise conv").get("backwardMs").asDouble() > 0, "backward passes are timed");
        assertTrue(cats.get("batch norm").get("forwardMs").asDouble() > 0, "forward passes are timed");
        assertFalse(cats.containsKey("activation"), "every swish is fused into its batch norm");
        int vertices = 0;
        for (JsonNode c : p.get("categories")) {
            vertices += c.get("vertices").asInt();
        }
        assertEquals(io.efficientnet.core.EfficientNet.builder().phi(-3).resolution(32).numClasses(5).build().init()
                .getConfiguration().getVertices().size(), vertices, "every vertex of the network is timed");
        assertTrue(sum < p.get("stepMsMean").asDouble(), "the vertices' times lie within the step's");
        double prev = Double.MAX_VALUE;
        for (JsonNode v : p.get("slowestVertices")) {
            double ms = v.get("forwardMs").asDouble() + v.get("backwardMs").asDouble();
            assertTrue(ms <= prev, "slowest first: " + p.get("slowestVertices"));
            prev = ms;
            JsonNode c = cats.get(v.get("category").asText());
            assertTrue(ms <= c.get("forwardMs").asDouble() + c.get("backwardMs").asDouble(), "a vertex's time is part "
                    + "of its type's: " + v + " in " + c);
        }
        assertEquals(10, p.get("slowestVertices").size());
    }

    @Test
    void inferenceProfileAndFoldedBatchNorms() throws Exception {
        JsonNode j = json("--optimize-for-inference", "--profile", "--engine", "dl4j");
        assertTrue(j.get("foldedBatchNorms").asInt() > 10);
        JsonNode p = j.get("profile");
        assertEquals("feedForward", p.get("pass").asText());
        for (JsonNode c : p.get("categories")) {
            assertNotEquals("batch norm", c.get("category").asText(), "folded away");
            assertEquals(0.0, c.get("backwardMs").asDouble(), "no backward pass in inference");
        }
    }

    @Test
    void textReportNamesTheMethodAndBackend() {
        String[] args = new String[TINY.length + 1];
        args[0] = "benchmark";
        System.arraycopy(TINY, 0, args, 1, TINY.length);
        Object[] r = SummaryCommandTest.run(args);
        assertEquals(0, r[0], (String) r[2]);
        String out = (String) r[1];
        assertTrue(out.contains("images/s: median"), out);
        assertTrue(out.contains("native build linux-x86_64"), out);
        assertTrue(out.contains("pool peaks summed"), out);
    }

    @Test
    void badValuesExitTwoAndNameTheValue() {
        Object[] r = SummaryCommandTest.run("benchmark", "--mode", "fast");
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("unknown mode 'fast'; allowed: inference, train"), (String) r[2]);
        r = SummaryCommandTest.run("benchmark", "--batch-size", "0");
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("--batch-size must be >= 1, got 0"), (String) r[2]);
        r = SummaryCommandTest.run("benchmark", "--batch-size", "-3");
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("got -3"), (String) r[2]);
        r = SummaryCommandTest.run("benchmark", "--batch-size", "eight");
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("'eight'"), (String) r[2]);
        r = SummaryCommandTest.run("benchmark", "--iterations", "0");
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("--iterations must be >= 1, got 0"), (String) r[2]);
        r = SummaryCommandTest.run("benchmark", "--mode", "train", "--optimize-for-inference");
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("use it with --mode inference"), (String) r[2]);
        r = SummaryCommandTest.run("benchmark", "--model", "x.zip", "--variant", "b1");
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("--variant cannot be combined with --model"), (String) r[2]);
        r = SummaryCommandTest.run("benchmark", "--model", "does-not-exist.zip");
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("does-not-exist.zip does not exist"), (String) r[2]);
        r = SummaryCommandTest.run("benchmark", "--phi", "-3", "--resolution", "32", "--no-top", "--mode", "train",
                "--iterations", "1", "--warmup", "0");
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("train mode needs a network that ends in one output layer"),
                (String) r[2]);
    }

    @Test
    void dataPipelineModeTimesDecodingAndAugmentation(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        io.efficientnet.train.TestImages.writeTree(tmp, 4, 1, 2);
        JsonNode j = json("--data", tmp.toString(), "--workers", "2", "--batches", "3");
        assertEquals("data", j.get("mode").asText());
        assertEquals(12, j.get("images").asInt(), "reads DIR/train when it exists");
        assertEquals(32, j.get("resolution").asInt());
        double median = j.get("imagesPerSecondMedian").asDouble();
        assertTrue(median > 0 && median >= j.get("imagesPerSecondMin").asDouble()
                && median <= j.get("imagesPerSecondMax").asDouble(), j.toString());
        Object[] bad = SummaryCommandTest.run("benchmark", "--data", tmp.toString(), "--workers", "0");
        assertEquals(2, bad[0]);
        assertTrue(bad[2].toString().contains("--workers and --batches must be >= 1, got 0"), bad[2].toString());
    }
}
