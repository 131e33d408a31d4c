package io.efficientnet.train.config;

import io.efficientnet.train.ProjectPaths;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** YAML recipes: merging, overrides, printing, and errors that name the key. */
class ConfigLoaderTest {

    private static final Path CONFIG_DIR = ProjectPaths.root().resolve("config");

    @Test
    void defaultsAreThePapersRecipe() throws IOException {
        TrainConfig c = ConfigLoader.load(List.of(), List.of());
        assertEquals("rmsprop", c.optimizer().name());
        assertEquals(0.016, c.optimizer().lrPer256());
        assertEquals(0.9, c.optimizer().rmsDecay());
        assertEquals(0.9, c.optimizer().momentum());
        assertEquals(1e-3, c.optimizer().epsilon());
        assertEquals(1e-5, c.optimizer().weightDecay());
        assertEquals(5, c.schedule().warmupEpochs());
        assertEquals(0.97, c.schedule().decayRate());
        assertEquals(2.4, c.schedule().decayEpochs());
        assertEquals(0.1, c.data().labelSmoothing());
        assertEquals(0.9999, c.ema().decay());
        assertEquals(0.08, c.data().cropScaleMin());
        assertEquals(0.875, c.data().evalCropFraction());
        assertEquals("auto", c.run().engine());
    }

    @Test
    void retiredKeysInOldRunFoldersAreIgnoredWithAWarningNamingThem(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("config.yaml");
        Files.writeString(file, "run:\n  epochs: 3\n  train_shards: 2\n  eval_shards: 2\n  train_engine: dl4j\n"
                + "spark:\n  training_master: parameter_averaging\n");
        List<String> warnings = new java.util.ArrayList<>();
        TrainConfig c = ConfigLoader.load(List.of(file), List.of(), warnings::add);
        assertEquals(3, c.run().epochs(), "the rest of the file still applies");
        assertEquals("auto", c.run().engine());
        assertEquals(4, warnings.size(), warnings.toString());
        for (String key : List.of("run.train_shards", "run.eval_shards", "run.train_engine", "spark.training_master")) {
            assertTrue(warnings.stream().anyMatch(w -> w.contains(key) && w.contains(file.toString())
                    && w.contains("ignored")), key + " in " + warnings);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConfigLoader.load(List.of(), List.of("run.engine=tensorflow")));
        assertTrue(e.getMessage().contains("run.engine must be one of auto, onednn, dl4j, got 'tensorflow'"),
                e.getMessage());
    }

    @Test
    void filesThenOverridesAndThePrintedYamlReadsBack(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("mine.yaml");
        Files.writeString(file, "model:\n  variant: b2\ndata:\n  batch_size: 64\n  path: /data/x\n");
        TrainConfig c = ConfigLoader.load(List.of(file), List.of("data.batch_size=16", "optimizer.name=sgd",
                "model.phi=-1.5"));
        assertEquals("b2", c.model().variant());
        assertEquals(-1.5, c.model().phi());
        assertEquals(16, c.data().batchSize(), "the command line wins over the file");
        assertEquals("/data/x", c.data().path());
        assertEquals("sgd", c.optimizer().name());
        Path printed = tmp.resolve("printed.yaml");
        Files.writeString(printed, ConfigLoader.toYaml(c));
        assertEquals(c, ConfigLoader.load(List.of(printed), List.of()), "print-config output is a valid config");
        assertTrue(ConfigLoader.toYaml(c).contains("lr_per_256: 0.016"), ConfigLoader.toYaml(c));
    }

    /** The bN recipes validate with the reference evaluation's crop, resolution / (resolution + 32) (4 decimals). */
    @Test
    void variantRecipesUseTheReferenceEvaluationCrop() throws IOException {
        for (io.efficientnet.core.model.Variant v : io.efficientnet.core.model.Variant.values()) {
            TrainConfig c = ConfigLoader.load(List.of(CONFIG_DIR.resolve(v.id() + ".yaml")), List.of());
            int res = v.scaling().resolution();
            assertEquals((double) res / (res + 32), c.data().evalCropFraction(), 5e-5, v.name());
        }
    }

    @Test
    void everyShippedRecipeLoads() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(CONFIG_DIR)) {
            files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertTrue(files.size() >= 10, "b0..b7, quickstart and finetune: " + files);
        for (Path f : files) {
            TrainConfig c = ConfigLoader.load(List.of(f), List.of());
            assertNotNull(c.model().builder(10).build(), f.toString());
        }
        for (int b = 0; b <= 7; b++) {
            TrainConfig c = ConfigLoader.load(List.of(CONFIG_DIR.resolve("b" + b + ".yaml")), List.of());
            assertEquals("b" + b, c.model().variant());
            assertEquals("rmsprop", c.optimizer().name());
            assertEquals(350, c.run().epochs());
        }
        TrainConfig quick = ConfigLoader.load(List.of(CONFIG_DIR.resolve("quickstart.yaml")), List.of());
        assertEquals("datasets/fashion-mnist-mini", quick.data().path());
        assertEquals(0, quick.data().randAugmentLayers(), "RandAugment off for quickstart-sized data");
    }

    @Test
    void unknownKeysNameTheKeyAndTheFile(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("typo.yaml");
        Files.writeString(file, "optimizer:\n  learning_rate: 0.1\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConfigLoader.load(List.of(file), List.of()));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("'optimizer.learning_rate'"), e.getMessage());
        assertTrue(e.getMessage().contains("lr_per_256"), "lists the known keys: " + e.getMessage());
        IllegalArgumentException top = assertThrows(IllegalArgumentException.class,
                () -> ConfigLoader.load(List.of(), List.of("trainer.epochs=3")));
        assertTrue(top.getMessage().contains("'trainer'"), top.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ConfigLoader.load(List.of(), List.of("epochs")));
    }

    @Test
    void wrongTypesAndRangesNameTheKey(@TempDir Path tmp) throws IOException {
        assertMessage("config key data.batch_size: expected a whole number (32-bit), got 'many'",
                List.of("data.batch_size=many"));
        assertMessage("config key data.batch_size: expected a whole number (32-bit), got '12.5'",
                List.of("data.batch_size=12.5"));
        assertMessage("config key optimizer.lr_per_256: expected a number, got 'fast'",
                List.of("optimizer.lr_per_256=fast"));
        assertMessage("data.batch_size must be >= 1, got 0", List.of("data.batch_size=0"));
        assertMessage("optimizer.name must be one of", List.of("optimizer.name=lamb"));
        assertMessage("data.label_smoothing must be in [0.0, 1.0), got 1.5", List.of("data.label_smoothing=1.5"));
        assertMessage("allowed", List.of("model.variant=b9"));
        Path file = tmp.resolve("section.yaml");
        Files.writeString(file, "data: 3\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConfigLoader.load(List.of(file), List.of()));
        assertTrue(e.getMessage().contains("data is a section"), e.getMessage());
        Files.writeString(file, "data: [1, 2\n");
        IllegalArgumentException yaml = assertThrows(IllegalArgumentException.class,
                () -> ConfigLoader.load(List.of(file), List.of()));
        assertTrue(yaml.getMessage().contains("not valid YAML"), yaml.getMessage());
        assertThrows(IOException.class, () -> ConfigLoader.load(List.of(tmp.resolve("none.yaml")), List.of()));
    }

    private static void assertMessage(String expected, List<String> overrides) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConfigLoader.load(List.of(), overrides));
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }
}
