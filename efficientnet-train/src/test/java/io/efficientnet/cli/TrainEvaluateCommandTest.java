package io.efficientnet.cli;

import io.efficientnet.train.TestImages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** {@code train} and {@code evaluate} from the command line: print-config, errors, a tiny run, JSON evaluation. */
class TrainEvaluateCommandTest {

    @Test
    void printConfigShowsTheMergedConfiguration() {
        Object[] r = SummaryCommandTest.run("train", "--config", "../config/quickstart.yaml", "--epochs", "3",
                "--set", "optimizer.lr_per_256=0.02", "--print-config");
        assertEquals(0, r[0], r[2].toString());
        String yaml = (String) r[1];
        assertTrue(yaml.contains("epochs: 3"), yaml);
        assertTrue(yaml.contains("lr_per_256: 0.02"), yaml);
        assertTrue(yaml.contains("path: datasets/fashion-mnist-mini"), yaml);
        Object[] sharded = SummaryCommandTest.run("train", "--shards", "3", "--print-config");
        assertEquals(0, sharded[0], sharded[2].toString());
        assertTrue(sharded[1].toString().contains("train_shards: 3")
                && sharded[1].toString().contains("eval_shards: 3"), sharded[1].toString());
        Object[] engine = SummaryCommandTest.run("train", "--config", "../config/quickstart.yaml", "--engine",
                "onednn", "--print-config");
        assertEquals(0, engine[0], engine[2].toString());
        assertTrue(engine[1].toString().contains("train_engine: onednn"), engine[1].toString());
        assertTrue(engine[1].toString().contains("train_shards: 1"), "--engine onednn replaces the recipe's shards");
        Object[] engineShards = SummaryCommandTest.run("train", "--engine", "onednn", "--shards", "2",
                "--print-config");
        assertEquals(2, engineShards[0]);
        assertTrue(engineShards[2].toString().contains("run.train_engine onednn"), engineShards[2].toString());
        Object[] both = SummaryCommandTest.run("train", "--shards", "2", "--workers", "2", "--print-config");
        assertEquals(2, both[0]);
        assertTrue(both[2].toString().contains("run.train_shards (2) and run.workers (2)"), both[2].toString());
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

        Object[] sharded = SummaryCommandTest.run("evaluate", "--model", out.resolve("model-final.zip").toString(),
                "--data", data.toString(), "--confusion", tmp.resolve("confusion-sharded.csv").toString(), "--json",
                "--shards", "2", "--batch-size", "5");
        assertEquals(0, sharded[0], sharded[2].toString());
        JsonNode js = new ObjectMapper().readTree(sharded[1].toString());
        assertEquals(12, js.get("count").asInt());
        assertEquals(top1, js.get("top1").asDouble(), "same predictions through ShardedInference");
        assertEquals(j.get("top5").asDouble(), js.get("top5").asDouble());
        assertEquals(j.get("loss").asDouble(), js.get("loss").asDouble(), 1e-5);
        assertEquals(rows, Files.readAllLines(tmp.resolve("confusion-sharded.csv")));
        assertEquals("DL4J, 2 shards", js.get("engine").asText(), "--shards runs DL4J's ShardedInference");
        Object[] plain = SummaryCommandTest.run("evaluate", "--model", out.resolve("model-final.zip").toString(),
                "--data", data.toString(), "--confusion", tmp.resolve("confusion-dl4j.csv").toString(), "--json",
                "--engine", "dl4j");
        assertEquals(0, plain[0], plain[2].toString());
        JsonNode jd = new ObjectMapper().readTree(plain[1].toString());
        assertEquals("DL4J", jd.get("engine").asText());
        assertEquals(top1, jd.get("top1").asDouble(), "same predictions from DL4J and oneDNN");
        assertEquals(j.get("loss").asDouble(), jd.get("loss").asDouble(), 1e-5);
        assertEquals(rows, Files.readAllLines(tmp.resolve("confusion-dl4j.csv")));
        Object[] conflict = SummaryCommandTest.run("evaluate", "--model", out.resolve("model-final.zip").toString(),
                "--data", data.toString(), "--engine", "onednn", "--shards", "2");
        assertEquals(2, conflict[0]);
        assertTrue(conflict[2].toString().contains("--shards and --single-threaded are options of --engine dl4j"),
                conflict[2].toString());
        Object[] badShards = SummaryCommandTest.run("evaluate", "--model", out.resolve("model-final.zip").toString(),
                "--data", data.toString(), "--shards", "0");
        assertEquals(2, badShards[0]);
        assertTrue(badShards[2].toString().contains("--shards must be >= 1, got 0"), badShards[2].toString());

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
}
