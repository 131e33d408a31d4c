package io.efficientnet.train.run;

import io.efficientnet.core.weights.ImageNetPreprocessing;
import io.efficientnet.core.weights.ModelZip;
import io.efficientnet.core.weights.ModelZipLoader;
import io.efficientnet.train.config.ConfigLoader;
import io.efficientnet.train.config.TrainConfig;
import io.efficientnet.train.recipe.WeightAverage;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The {@code checkpoints/} folder of a run: {@code ckpt-<iteration>.zip} files, each a {@code ModelSerializer} zip
 * (network and updater state, ImageNet normaliser, class names, input shape) with the trainer state, the metrics
 * history, the weight average and the merged configuration added. Writes are atomic (temporary file and rename), so a
 * run killed at any moment leaves only complete checkpoints; the newest {@code keep} are kept, and the one with the
 * best validation top-1 ({@link TrainerState#bestIteration()}).
 */
public final class CheckpointStore {

    static final String STATE = "trainer-state.properties";
    static final String METRICS = "metrics.csv";
    static final String EMA = "ema-params.bin";
    static final String CONFIG = "train-config.yaml";

    private final Path dir;
    private final int keep;

    /** A store in {@code dir} keeping the newest {@code keep} checkpoints. */
    public CheckpointStore(Path dir, int keep) {
        this.dir = dir;
        this.keep = keep;
    }

    /** The folder. */
    public Path dir() {
        return dir;
    }

    /**
     * Writes a checkpoint for {@code state.iteration()}, then removes the oldest beyond {@code keep} except the best
     * one.
     */
    public Path save(ComputationGraph net, WeightAverage average, TrainerState state, List<EpochMetrics> history,
            Map<String, String> description, String configYaml) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        description.forEach((k, v) -> entries.put(k, utf8(v)));
        entries.put(STATE, utf8(state.toText()));
        entries.put(METRICS, utf8(MetricsLog.toCsv(history)));
        entries.put(CONFIG, utf8(configYaml));
        if (average != null) {
            entries.put(EMA, averageBytes(average));
        }
        Path file = fileFor(state.iteration());
        ModelZip.writeWithEntries(net, file, true, ImageNetPreprocessing.normalizer(), entries);
        List<Path> all = list();
        Path best = state.bestIteration() >= 0 ? fileFor(state.bestIteration()) : null;
        for (int i = 0; i < all.size() - keep; i++) {
            if (!all.get(i).equals(best)) {
                Files.deleteIfExists(all.get(i));
            }
        }
        return file;
    }

    /** The checkpoint file of {@code iteration}. */
    public Path fileFor(long iteration) {
        return dir.resolve(String.format("ckpt-%09d.zip", iteration));
    }

    /** Checkpoint files, oldest first. */
    public List<Path> list() throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().matches("ckpt-\\d+\\.zip")).sorted().toList();
        }
    }

    /**
     * Restores the newest checkpoint that reads back completely; unreadable ones are reported to {@code warnings}
     * and passed over.
     *
     * @throws IOException if there is none
     */
    public Checkpoint restoreLatest(Consumer<String> warnings) throws IOException {
        AtomicFiles.removeLeftovers(dir);
        List<Path> all = new ArrayList<>(list());
        List<String> problems = new ArrayList<>();
        for (int i = all.size() - 1; i >= 0; i--) {
            try {
                return restore(all.get(i));
            } catch (IOException | RuntimeException e) {
                String msg = all.get(i) + ": cannot be restored (" + e.getMessage() + ")";
                problems.add(msg);
                warnings.accept("warning: " + msg + "; trying an older checkpoint");
            }
        }
        throw new IOException("no usable checkpoint in " + dir + (problems.isEmpty() ? "" : ": " + problems));
    }

    /** Restores one checkpoint file. */
    public static Checkpoint restore(Path file) throws IOException {
        String stateText = ModelZip.readEntry(file, STATE);
        String metrics = ModelZip.readEntry(file, METRICS);
        String labels = ModelZip.readEntry(file, ModelZip.LABELS);
        if (stateText == null || metrics == null || labels == null) {
            throw new IOException(file + ": not a training checkpoint (missing " + STATE + ", " + METRICS + " or "
                    + ModelZip.LABELS + ")");
        }
        ComputationGraph net = ModelZipLoader.graph(file, true, Set.of(STATE, METRICS, EMA, CONFIG));
        byte[] ema = ModelZip.readBytes(file, EMA);
        WeightAverage average = ema == null ? null : readAverage(ema, net, file);
        return new Checkpoint(file, net, average, TrainerState.parse(stateText, file + "!" + STATE),
                MetricsLog.parse(metrics), Arrays.asList(labels.strip().split("\n")));
    }

    /** The merged configuration stored in a checkpoint. */
    public static String config(Path file) throws IOException {
        return ModelZip.readEntry(file, CONFIG);
    }

    private static byte[] averageBytes(WeightAverage average) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeDouble(average.decay());
            out.writeLong(average.updates());
            Nd4j.write(average.average(), out);
        }
        return bytes.toByteArray();
    }

    private static WeightAverage readAverage(byte[] bytes, ComputationGraph net, Path file) throws IOException {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            double decay = in.readDouble();
            long updates = in.readLong();
            INDArray avg = Nd4j.read(in);
            if (avg.length() != net.numParams()) {
                throw new IOException(file + ": weight average has " + avg.length() + " values, network has "
                        + net.numParams());
            }
            return new WeightAverage(decay, avg.reshape(net.params().shape()), updates);
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /**
     * A warning when {@code config} resumes {@code checkpoint} with another batch size or seed: the data order,
     * augmentation and schedule then differ from the interrupted run's, so it is not repeated exactly.
     */
    static java.util.Optional<String> orderChange(Path checkpoint, TrainConfig config) throws IOException {
        String saved = config(checkpoint);
        if (saved == null) {
            return java.util.Optional.empty();
        }
        TrainConfig before = ConfigLoader.fromYaml(saved, checkpoint + "!" + CONFIG);
        if (before.data().batchSize() == config.data().batchSize() && before.run().seed() == config.run().seed()) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of("warning: resuming with batch size " + config.data().batchSize() + " and seed "
                + config.run().seed() + " where the checkpoint used " + before.data().batchSize() + " and "
                + before.run().seed() + ": data order, augmentation and the learning-rate schedule's steps "
                + "per epoch differ from the interrupted run, so it will not be repeated exactly");
    }
}
