package io.efficientnet.train.config;

import org.snakeyaml.engine.v2.api.Dump;
import org.snakeyaml.engine.v2.api.DumpSettings;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.common.FlowStyle;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Builds a {@link TrainConfig}: the defaults, then each YAML file in order, then {@code key=value} overrides
 * ({@code optimizer.lr_per_256=0.008}). Keys are snake_case and nested by section. Unknown keys, wrong types and
 * out-of-range values are errors that name the key (and the file for unknown keys).
 */
public final class ConfigLoader {

    private ConfigLoader() {
    }

    /**
     * Keys that earlier configurations (and run folders written by them) contain, with what took their place: they
     * are skipped with a warning instead of failing the run.
     */
    private static final Map<String, String> RETIRED = Map.of(
            "run.train_engine", "run.engine chooses what computes training steps (auto by default)",
            "run.train_shards", "run.engine chooses what computes training steps; oneDNN uses every core for a batch",
            "run.eval_shards", "validation runs on run.engine; oneDNN uses every core for a batch",
            "spark.training_master", "Spark training averages parameters (the one training master)");

    /** Merges {@code files} and {@code overrides} over the defaults; retired keys are reported to stderr. */
    public static TrainConfig load(List<Path> files, List<String> overrides) throws IOException {
        return load(files, overrides, System.err::println);
    }

    /** Merges {@code files} and {@code overrides} over the defaults; {@code warnings} hears of retired keys. */
    public static TrainConfig load(List<Path> files, List<String> overrides, Consumer<String> warnings)
            throws IOException {
        Map<String, Object> tree = RecordMaps.toMap(TrainConfig.defaults());
        for (Path file : files) {
            merge(tree, readYaml(file), "", file.toString(), warnings);
        }
        for (String override : overrides) {
            apply(tree, override);
        }
        return RecordMaps.fromMap(TrainConfig.class, tree, "");
    }

    /** Reads a configuration printed by {@link #toYaml} (e.g. the one stored in a checkpoint); {@code source} names it. */
    public static TrainConfig fromYaml(String yaml, String source) {
        Map<String, Object> tree = RecordMaps.toMap(TrainConfig.defaults());
        Object doc = new Load(LoadSettings.builder().setLabel(source).build()).loadFromString(yaml);
        if (doc instanceof Map) {
            merge(tree, cast(doc), "", source, warning -> { });
        }
        return RecordMaps.fromMap(TrainConfig.class, tree, "");
    }

    /** Applies one {@code dotted.key=value} override (the value is read as a YAML scalar). */
    static void apply(Map<String, Object> tree, String override) {
        int eq = override.indexOf('=');
        if (eq <= 0) {
            throw new IllegalArgumentException("override '" + override + "' must look like section.key=value");
        }
        String[] path = override.substring(0, eq).trim().split("\\.");
        Object value = new Load(LoadSettings.builder().build()).loadFromString(override.substring(eq + 1));
        Map<String, Object> node = tree;
        StringBuilder prefix = new StringBuilder();
        for (int i = 0; i < path.length - 1; i++) {
            Object child = node.get(path[i]);
            if (!(child instanceof Map)) {
                throw unknown(prefix + path[i], node, "the command line");
            }
            prefix.append(path[i]).append('.');
            node = cast(child);
        }
        String last = path[path.length - 1];
        if (!node.containsKey(last) || node.get(last) instanceof Map) {
            throw unknown(prefix + last, node, "the command line");
        }
        node.put(last, value);
    }

    /** The configuration as YAML, in the same layout as the files in {@code config/}. */
    public static String toYaml(TrainConfig config) {
        DumpSettings settings = DumpSettings.builder().setDefaultFlowStyle(FlowStyle.BLOCK).build();
        return new Dump(settings).dumpToString(RecordMaps.toMap(config));
    }

    /** The settings that differ between two configurations, as {@code key: before -> after}, in key order. */
    public static List<String> differences(TrainConfig before, TrainConfig after) {
        List<String> out = new ArrayList<>();
        collectDifferences(RecordMaps.toMap(before), RecordMaps.toMap(after), "", out);
        return out;
    }

    private static void collectDifferences(Map<String, Object> a, Map<String, Object> b, String prefix,
            List<String> out) {
        for (Map.Entry<String, Object> e : b.entrySet()) {
            Object was = a.get(e.getKey());
            if (e.getValue() instanceof Map && was instanceof Map) {
                collectDifferences(cast(was), cast(e.getValue()), prefix + e.getKey() + ".", out);
            } else if (!java.util.Objects.equals(String.valueOf(was), String.valueOf(e.getValue()))) {
                out.add(prefix + e.getKey() + ": " + was + " -> " + e.getValue());
            }
        }
    }

    private static Map<String, Object> readYaml(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": no such config file");
        }
        Object doc;
        try {
            doc = new Load(LoadSettings.builder().setLabel(file.toString()).build())
                    .loadFromString(Files.readString(file));
        } catch (YamlEngineException e) {
            throw new IllegalArgumentException(file + ": not valid YAML: " + e.getMessage(), e);
        }
        if (doc == null) {
            return Map.of();
        }
        if (!(doc instanceof Map)) {
            throw new IllegalArgumentException(file + ": expected sections (model:, data:, ...) at the top level");
        }
        return cast(doc);
    }

    private static void merge(Map<String, Object> into, Map<String, Object> from, String prefix, String source,
            Consumer<String> warnings) {
        for (Map.Entry<String, Object> e : from.entrySet()) {
            String key = String.valueOf(e.getKey());
            String retired = RETIRED.get(prefix + key);
            if (retired != null && !into.containsKey(key)) {
                warnings.accept("warning: " + source + ": " + prefix + key + " is no longer used and was ignored ("
                        + retired + ")");
                continue;
            }
            if (!into.containsKey(key)) {
                throw unknown(prefix + key, into, source);
            }
            Object current = into.get(key);
            if (current instanceof Map) {
                if (!(e.getValue() instanceof Map)) {
                    throw new IllegalArgumentException(source + ": config key " + prefix + key
                            + " is a section (key: value lines), got '" + e.getValue() + "'");
                }
                merge(cast(current), cast(e.getValue()), prefix + key + ".", source, warnings);
            } else {
                into.put(key, e.getValue());
            }
        }
    }

    private static IllegalArgumentException unknown(String key, Map<String, Object> siblings, String source) {
        List<String> known = new ArrayList<>(siblings.keySet());
        return new IllegalArgumentException(source + ": unknown config key '" + key + "' (known here: "
                + String.join(", ", known) + ")");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Object map) {
        return (Map<String, Object>) map;
    }
}
