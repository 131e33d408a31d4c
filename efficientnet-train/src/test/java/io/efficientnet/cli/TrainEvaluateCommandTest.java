package io.efficientnet.cli;

import io.efficientnet.train.ProjectPaths;
import io.efficientnet.train.TestImages;
import io.efficientnet.train.data.DataSplits;
import io.efficientnet.train.data.EvalTransform;
import io.efficientnet.train.data.ImageBatches;
import io.efficientnet.train.data.SampleTransform;
import io.efficientnet.train.data.SkippedImages;
import io.efficientnet.train.run.SavedModel;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** {@code train} and {@code evaluate} from the command line: print-config, errors, a tiny run, JSON evaluation. */
class TrainEvaluateCommandTest {

    /** The quickstart recipe, found from the module's base directory wherever the JVM was started. */
    private static final String QUICKSTART = ProjectPaths.root().resolve("config/quickstart.yaml").toString();

    @Test
    void printConfigShowsTheMergedConfiguration() {
        Object[] r = SummaryCommandTest.run("train", "--config", QUICKSTART, "--epochs", "3",
                "--set", "optimizer.lr_per_256=0.02", "--print-config");
        assertEquals(0, r[0], r[2].toString());
        String yaml = (String) r[1];
        assertTrue(yaml.contains("epochs: 3"), yaml);
        assertTrue(yaml.contains("lr_per_256: 0.02"), yaml);
        assertTrue(yaml.contains("path: datasets/fashion-mnist-mini"), yaml);
        Object[] engine = SummaryCommandTest.run("train", "--config", QUICKSTART, "--engine",
                "onednn", "--print-config");
        assertEquals(0, engine[0], engine[2].toString());
        assertTrue(engine[1].toString().contains("engine: onednn"), engine[1].toString());
        // an option composes with the recipe: two devices through DL4J's ParallelWrapper, the engine left at auto
        Object[] workers = SummaryCommandTest.run("train", "--config", QUICKSTART, "--workers", "2", "--print-config");
        assertEquals(0, workers[0], workers[2].toString());
        assertTrue(workers[1].toString().contains("workers: 2"), workers[1].toString());
        Object[] both = SummaryCommandTest.run("train", "--engine", "onednn", "--workers", "2", "--print-config");
        assertEquals(2, both[0]);
        assertTrue(both[2].toString().contains("run.engine onednn trains on this machine's cores, run.workers (2)"),
                both[2].toString());
    }

    @Test
    void resumeReadsTheRunsConfigThenTheSameFilesAndOptionsAndSaysWhatChanged(@TempDir Path tmp) {
        Path run = tmp.resolve("run");
        Object[] first = SummaryCommandTest.run("train", "--config", QUICKSTART, "--epochs", "5", "--output",
                run.toString(), "--print-config");
        assertEquals(0, first[0], first[2].toString());
        try {
            java.nio.file.Files.createDirectories(run);
            java.nio.file.Files.writeString(run.resolve("config.yaml"), (String) first[1]);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        // the command that started the run, with --resume added: the same configuration, nothing changed
        Object[] same = SummaryCommandTest.run("train", "--config", QUICKSTART, "--epochs", "5", "--output",
                run.toString(), "--resume", run.toString(), "--print-config");
        assertEquals(0, same[0], same[2].toString());
        assertEquals(first[1], same[1]);
        // options still win over the files, and what changed is listed
        Object[] longer = SummaryCommandTest.run("train", "--resume", run.toString(), "--epochs", "8",
                "--print-config");
        assertEquals(0, longer[0], longer[2].toString());
        assertTrue(longer[1].toString().contains("resuming with run.epochs: 5 -> 8"), longer[1].toString());
        // a run folder written before a key was retired: its warning is printed once
        try {
            java.nio.file.Files.writeString(run.resolve("config.yaml"), ((String) first[1]).replace("run:\n",
                    "run:\n  train_shards: 2\n"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        Object[] old = SummaryCommandTest.run("train", "--resume", run.toString(), "--print-config");
        assertEquals(0, old[0], old[2].toString());
        assertEquals(1, old[2].toString().lines().filter(l -> l.contains("run.train_shards is no longer used"))
                .count(), old[2].toString());
        Object[] elsewhere = SummaryCommandTest.run("train", "--resume", run.toString(), "--output",
                tmp.resolve("other").toString(), "--print-config");
        assertEquals(2, elsewhere[0]);
        assertTrue(elsewhere[2].toString().contains("continues in its own folder"), elsewhere[2].toString());
    }

    @Test
    void badConfigValuesExitTwoNamingTheKey() {
        Object[] unknown = SummaryCommandTest.run("train", "--set", "optimizer.lr=0.1", "--print-config");
        assertEquals(2, unknown[0]);
        assertTrue(unknown[2].toString().contains("'optimizer.lr'"), unknown[2].toString());
        Object[] type = SummaryCommandTest.run("train", "--batch-size", "0", "--print-config");
        assertEquals(2, type[0]);
        assertTrue(type[2].toString().contains("data.batch_size must be >= 1"), type[2].toString());
        Object[] backend = SummaryCommandTest.run("train", "--backend", "cuda", "--data", "nowhere");
        assertEquals(2, backend[0]);
        assertTrue(backend[2].toString().contains("cpu backend"), backend[2].toString());
    }

    @Test
    void trainsThenEvaluatesWithJson(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("shapes");
        TestImages.writeTree(data, 8, 4, 21);
        Path out = tmp.resolve("run");
        List<String> args = new ArrayList<>(List.of("train", "--data", data.toString(), "--output", out.toString(),
                "--epochs", "2", "--batch-size", "8", "--no-progress"));
        for (String s : List.of("model.width=0.25", "model.depth=0.25", "model.resolution=32",
                "optimizer.name=adam", "data.workers=2")) {
            args.add("--set");
            args.add(s);
        }
        Object[] r = SummaryCommandTest.run(args.toArray(String[]::new));
        assertEquals(0, r[0], r[2].toString());
        assertTrue(r[1].toString().contains("epoch 2/2: train loss"), r[1].toString());
        assertTrue(r[1].toString().contains("final validation (EMA weights): top-1"), r[1].toString());

        Path csv = tmp.resolve("confusion.csv");
        Object[] e = SummaryCommandTest.run("evaluate", "--model", out.resolve("model-final.zip").toString(), "--data",
                data.toString(), "--confusion", csv.toString(), "--json");
        assertEquals(0, e[0], e[2].toString());
        JsonNode j = new ObjectMapper().readTree(e[1].toString());
        assertEquals(12, j.get("count").asInt(), "evaluate uses DATA/val when it exists");
        assertTrue(j.get("engine").asText().startsWith("oneDNN"), "the default engine is oneDNN: " + j);
        double top1 = j.get("top1").asDouble();
        assertTrue(top1 >= 0 && top1 <= 1 && j.get("top5").asDouble() >= top1, j.toString());
        assertEquals(3, j.get("per_class").size());
        List<String> rows = Files.readAllLines(csv);
        assertEquals("true\\predicted,blue-bar,green-square,red-disk", rows.get(0));
        int total = 0;
        for (String row : rows.subList(1, rows.size())) {
            String[] cells = row.split(",");
            for (int i = 1; i < cells.length; i++) {
                total += Integer.parseInt(cells[i]);
            }
        }
        assertEquals(12, total, "every evaluated image is in the confusion matrix");

        Object[] plain = SummaryCommandTest.run("evaluate", "--model", out.resolve("model-final.zip").toString(),
                "--data", data.toString(), "--confusion", tmp.resolve("confusion-dl4j.csv").toString(), "--json",
                "--engine", "dl4j");
        assertEquals(0, plain[0], plain[2].toString());
        JsonNode jd = new ObjectMapper().readTree(plain[1].toString());
        assertEquals("DL4J", jd.get("engine").asText());
        // The same predictions from every engine, judged against float64: an image whose top two classes are closer
        // than float32 rounding may go either way, moving one count within its confusion row.
        Reference ref = reference(out.resolve("model-final.zip"), data);
        double dl4jLoss = jd.get("loss").asDouble();
        // float32 rounding moves the loss by far less than 1e-3 relative; other images would move it by percents
        assertEquals(ref.loss(), dl4jLoss, 1e-3 * ref.loss(), "the reference evaluates evaluate's images");
        assertLikeReference(ref, j, csv, dl4jLoss, "oneDNN");
        assertLikeReference(ref, jd, tmp.resolve("confusion-dl4j.csv"), dl4jLoss, "DL4J");
        Object[] text = SummaryCommandTest.run("evaluate", "--model", out.resolve("model-final.zip").toString(),
                "--data", data.resolve("train").toString(), "--confusion", csv.toString());
        assertEquals(0, text[0], text[2].toString());
        assertTrue(text[1].toString().contains("24 images"), text[1].toString());
        assertTrue(text[1].toString().contains("per-class accuracy:"), text[1].toString());

        Path other = tmp.resolve("other");
        Files.createDirectories(other.resolve("cats"));
        Files.createDirectories(other.resolve("dogs"));
        Object[] bad = SummaryCommandTest.run("evaluate", "--model", out.resolve("model-final.zip").toString(),
                "--data", other.toString());
        assertEquals(2, bad[0]);
        assertTrue(bad[2].toString().contains("unknown: [cats, dogs]"), bad[2].toString());

        Object[] resumeDone = SummaryCommandTest.run("train", "--resume", out.toString(), "--epochs", "3",
                "--no-progress", "--batch-size", "6");
        assertEquals(0, resumeDone[0], resumeDone[2].toString());
        assertTrue(resumeDone[1].toString().contains("warning: resuming with batch size 6 and seed 42 where the "
                + "checkpoint used 8 and 42"), resumeDone[1].toString());
        assertTrue(resumeDone[1].toString().contains("resuming from"), resumeDone[1].toString());
        assertTrue(resumeDone[1].toString().contains("epoch 3/3"), resumeDone[1].toString());
        assertEquals(4, Files.readAllLines(out.resolve("metrics.csv")).size(), "header + 3 epochs");
    }

    /**
     * What evaluate should find, from the model's network in float64: each image's probabilities and true class, and
     * how far a float32 engine's probabilities may be from them: 3x DL4J's own float32 error (engines round in other
     * orders and kernels, with errors of that size, not DL4J's exactly), plus 1e-6 for when DL4J lands very close.
     */
    private record Reference(List<String> classes, double[][] exact, int[] labels, double tolerance) {

        int predicted(int image) {
            int best = 0;
            for (int c = 1; c < classes.size(); c++) {
                best = exact[image][c] > exact[image][best] ? c : best;
            }
            return best;
        }

        /** Whether a float32 engine may rank another class first: one within twice the tolerance of the top one. */
        boolean nearTie(int image) {
            int top = predicted(image);
            for (int c = 0; c < classes.size(); c++) {
                if (c != top && exact[image][top] - exact[image][c] <= 2 * tolerance) {
                    return true;
                }
            }
            return false;
        }

        /** Evaluator's cross-entropy, in float64. */
        double loss() {
            double sum = 0;
            for (int i = 0; i < labels.length; i++) {
                sum -= Math.log(exact[i][labels[i]] + 1e-12);
            }
            return sum / labels.length;
        }
    }

    /** {@link Reference} for {@code zip} on {@code data}, with evaluate's images, transform and normaliser. */
    private static Reference reference(Path zip, Path data) throws IOException {
        SavedModel saved = SavedModel.load(zip);
        ComputationGraph net = saved.network();
        ComputationGraph net64 = net.convertDataType(DataType.DOUBLE);
        int h = saved.inputShape()[1];
        int w = saved.inputShape()[2];
        List<double[]> exact = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        double dl4jError = 0;
        try (ImageBatches batches = new ImageBatches(DataSplits.evaluationFolder(data, saved.labels()),
                SampleTransform.of(new EvalTransform(h, w, EvalTransform.CROP_FRACTION)), h, w, 32, false, 0, 2, 2, 0,
                new SkippedImages(s -> { }))) {
            batches.setPreProcessor(saved.normalizer());
            while (batches.hasNext()) {
                DataSet ds = batches.next();
                INDArray p64 = net64.output(false, ds.getFeatures().castTo(DataType.DOUBLE))[0];
                INDArray p32 = net.output(false, ds.getFeatures())[0].castTo(DataType.DOUBLE);
                dl4jError = Math.max(dl4jError, p32.sub(p64).amaxNumber().doubleValue());
                for (int i = 0; i < p64.rows(); i++) {
                    exact.add(p64.getRow(i).toDoubleVector());
                    labels.add(ds.getLabels().getRow(i).argMax().getInt(0));
                }
            }
        }
        return new Reference(saved.labels(), exact.toArray(double[][]::new),
                labels.stream().mapToInt(Integer::intValue).toArray(), 3 * dl4jError + 1e-6);
    }

    /**
     * Asserts that an engine's evaluation (JSON and confusion CSV) is the float64 reference's: exactly, but for images
     * whose top classes nearly tie, which may land in either column.
     */
    private static void assertLikeReference(Reference ref, JsonNode json, Path csv, double dl4jLoss, String engine)
            throws IOException {
        int n = ref.labels().length;
        int classes = ref.classes().size();
        assertEquals(n, json.get("count").asInt(), engine);
        int[][] expected = new int[classes][classes];
        int[] ties = new int[classes];
        int correct = 0;
        for (int i = 0; i < n; i++) {
            expected[ref.labels()[i]][ref.predicted(i)]++;
            ties[ref.labels()[i]] += ref.nearTie(i) ? 1 : 0;
            correct += ref.predicted(i) == ref.labels()[i] ? 1 : 0;
        }
        List<String> rows = Files.readAllLines(csv);
        int allTies = 0;
        for (int t = 0; t < classes; t++) {
            String[] cells = rows.get(t + 1).split(",");
            assertEquals(ref.classes().get(t), cells[0]);
            for (int p = 0; p < classes; p++) {
                assertTrue(Math.abs(expected[t][p] - Integer.parseInt(cells[p + 1])) <= ties[t], engine + ": row "
                        + cells[0] + ", column " + ref.classes().get(p) + " is " + cells[p + 1] + ", float64 gives "
                        + expected[t][p] + " with " + ties[t] + " near-ties");
            }
            allTies += ties[t];
        }
        long engineCorrect = Math.round(json.get("top1").asDouble() * n);
        assertTrue(Math.abs(engineCorrect - correct) <= allTies, engine + ": " + engineCorrect + " correct, float64 "
                + correct + " with " + allTies + " near-ties");
        assertEquals(1.0, json.get("top5").asDouble(), engine + ": the top 5 of 3 classes hold every class");
        double exactLoss = ref.loss();
        // as close to float64 as DL4J's float32 loss is, within 3x (see Reference), plus 1e-6 relative
        assertEquals(exactLoss, json.get("loss").asDouble(), 3 * Math.abs(dl4jLoss - exactLoss) + 1e-6 * exactLoss,
                engine + ": loss against float64, where DL4J's float32 loss is " + dl4jLoss);
    }
}
