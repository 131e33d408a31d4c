package io.efficientnet.cli;

import io.efficientnet.core.EfficientNet;
import io.efficientnet.core.engine.Engine;
import io.efficientnet.core.engine.Engines;
import io.efficientnet.core.inference.BatchNormFolding;
import io.efficientnet.core.weights.ModelZip;
import io.efficientnet.bench.BenchmarkMode;
import io.efficientnet.bench.BenchmarkResult;
import io.efficientnet.bench.BenchmarkSpec;
import io.efficientnet.bench.ModelBenchmark;
import io.efficientnet.bench.OneDnnInferenceBenchmark;
import io.efficientnet.bench.OneDnnTrainingBenchmark;
import io.efficientnet.train.export.InferenceExport;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code efficientnet benchmark}: images/s, memory and backend for inference or training on synthetic data. */
@Command(name = "benchmark", mixinStandardHelpOptions = true,
        description = "Time inference (output) or training (fit with SGD) iterations on synthetic data with a fixed "
                + "seed: median images/s with min/max, ms per iteration, peak heap and off-heap memory, backend and "
                + "threads; --profile adds time per layer type. Threads: set OMP_NUM_THREADS before starting.")
public final class BenchmarkCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec commandSpec;

    @Mixin
    ModelOptions model;

    @Option(names = "--model", paramLabel = "ZIP",
            description = "time this model zip (e.g. from export) instead of building --variant/--phi")
    Path modelZip;

    @Option(names = "--mode", defaultValue = "inference",
            description = "inference or train (default: ${DEFAULT-VALUE})")
    String mode;

    @Option(names = "--batch-size", defaultValue = "8",
            description = "images per iteration (default: ${DEFAULT-VALUE})")
    int batchSize;

    @Option(names = "--warmup", defaultValue = "10",
            description = "untimed iterations first (default: ${DEFAULT-VALUE}; on 2 cores the JIT compiler needs "
                    + "about 7 B0 iterations to settle)")
    int warmup;

    @Option(names = "--iterations", defaultValue = "15", description = "timed iterations (default: ${DEFAULT-VALUE})")
    int iterations;

    @Option(names = "--seed", defaultValue = "42",
            description = "seed of the synthetic data (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--learning-rate", defaultValue = "0.01",
            description = "SGD learning rate in train mode (default: ${DEFAULT-VALUE})")
    double learningRate;

    @Option(names = "--optimize-for-inference",
            description = "fold batch norms into their convolutions before timing (inference mode only)")
    boolean optimize;

    @Option(names = "--engine", defaultValue = "auto", paramLabel = "ENGINE",
            description = "what to time: auto (oneDNN where it can run the network, else DL4J, saying why), onednn "
                    + "(the whole network as oneDNN primitives) or dl4j (the DL4J network itself) "
                    + "(default: ${DEFAULT-VALUE})")
    String engine;

    @Option(names = "--data-type", defaultValue = "float32", paramLabel = "TYPE",
            description = "network and input data type: float32, float16 or float64 (default: ${DEFAULT-VALUE}; "
                    + "on CPU float16 runs 26-36x slower than float32 in DL4J 1.0.0-M2.1, see BENCHMARKS.md)")
    String dataType;

    @Option(names = "--profile", description = "also print time per layer type (extra iterations after the timed ones)")
    boolean profile;

    @Option(names = "--json", description = "print one JSON object")
    boolean json;

    @Option(names = "--data", paramLabel = "DIR",
            description = "time the training data pipeline on DIR/<class>/* (or DIR/train/<class>/*) instead of a "
                    + "network: decode, augment, normalise, batch; one iteration = --batches batches")
    Path data;

    @Option(names = "--workers", defaultValue = "2", description = "data pipeline threads with --data "
            + "(default: ${DEFAULT-VALUE})")
    int workers;

    @Option(names = "--batches", defaultValue = "20", description = "batches per timed iteration with --data "
            + "(default: ${DEFAULT-VALUE})")
    int batches;

    @Override
    public Integer call() throws Exception {
        BenchmarkMode m = BenchmarkMode.parse(mode);
        if (batchSize < 1) {
            throw new IllegalArgumentException("--batch-size must be >= 1, got " + batchSize);
        }
        if (iterations < 1) {
            throw new IllegalArgumentException("--iterations must be >= 1, got " + iterations);
        }
        if (warmup < 0) {
            throw new IllegalArgumentException("--warmup must be >= 0, got " + warmup);
        }
        if (optimize && m == BenchmarkMode.TRAIN) {
            throw new IllegalArgumentException("--optimize-for-inference folds batch norms, which changes training; "
                    + "use it with --mode inference");
        }
        Engine requested = Engine.parse(engine, "--engine");
        DataType type = parseDataType(dataType);
        if (data != null && commandSpec.commandLine().getParseResult().hasMatchedOption("--data-type")) {
            throw new IllegalArgumentException("--data-type sets the network's type; --data times the image "
                    + "pipeline, which always produces float32");
        }
        if (data != null) {
            if (workers < 1 || batches < 1) {
                throw new IllegalArgumentException("--workers and --batches must be >= 1, got " + workers + " and "
                        + batches);
            }
            java.nio.file.Path train = data.resolve("train");
            io.efficientnet.train.data.ImageFolder folder = io.efficientnet.train.data.ImageFolder.scan(
                    java.nio.file.Files.isDirectory(train) ? train : data);
            int res = model.resolution != null ? model.resolution : model.builder().build().inputShape()[1];
            Map<String, Object> r = io.efficientnet.bench.DataPipelineBenchmark.run(folder, res, batchSize,
                    workers, batches, warmup, iterations);
            commandSpec.commandLine().getOut().print(json ? new ObjectMapper().writeValueAsString(r) + "\n"
                    : io.efficientnet.bench.DataPipelineBenchmark.toText(r));
            commandSpec.commandLine().getOut().flush();
            return 0;
        }
        BenchmarkSpec spec = new BenchmarkSpec(m, batchSize, warmup, iterations, seed, learningRate, profile);

        ComputationGraph net;
        int[] chw;
        String name;
        if (modelZip != null) {
            for (String o : new String[] {"--variant", "--phi", "--num-classes", "--no-top"}) {
                if (commandSpec.commandLine().getParseResult().hasMatchedOption(o)) {
                    throw new IllegalArgumentException(o + " cannot be combined with --model (the zip defines the "
                            + "network; --resolution may override its input size)");
                }
            }
            net = InferenceExport.restore(modelZip);
            if (net.getConfiguration().getDataType() != type) {
                net = net.convertDataType(type);
            }
            chw = ModelZip.readInputShape(modelZip);
            if (model.resolution != null) {
                chw = new int[] {chw == null ? 3 : chw[0], model.resolution, model.resolution};
            }
            if (chw == null) {
                throw new IllegalArgumentException(modelZip + " has no " + ModelZip.INPUT_SHAPE
                        + " entry: give the input size with --resolution");
            }
            name = modelZip.toString();
        } else {
            EfficientNet e = model.builder().dataType(type).build();
            net = e.init();
            chw = e.inputShape();
            name = e.modelName();
        }
        Map<String, Object> notes = new LinkedHashMap<>();
        notes.put("dataType", dataType);
        if (optimize) {
            BatchNormFolding.Result r = BatchNormFolding.fold(net);
            net = r.graph();
            notes.put("foldedBatchNorms", r.folds().size());
        }
        boolean oneDnn = Engines.choose(net, requested, m == BenchmarkMode.TRAIN,
                commandSpec.commandLine().getErr()::println) == Engine.ONEDNN;
        if (profile && oneDnn) {
            throw new IllegalArgumentException("--profile times DL4J's layers: add --engine dl4j (for oneDNN's "
                    + "primitives set ONEDNN_VERBOSE=1)");
        }
        if (!oneDnn) {
            notes.put("engine", "DL4J");
        }
        BenchmarkResult result = oneDnn && m == BenchmarkMode.TRAIN
                ? OneDnnTrainingBenchmark.run(net, chw, name, spec, notes)
                : oneDnn
                ? OneDnnInferenceBenchmark.run(net, chw, name, spec, notes)
                : ModelBenchmark.run(net, chw, name, spec, notes);
        if (json) {
            commandSpec.commandLine().getOut().println(new ObjectMapper().writeValueAsString(result.toMap()));
        } else {
            commandSpec.commandLine().getOut().print(result.toText());
        }
        commandSpec.commandLine().getOut().flush();
        return 0;
    }

    /** The DL4J type for a {@code --data-type} name (bfloat16 is not offered: M2.1's layers reject it). */
    static DataType parseDataType(String name) {
        return switch (name) {
            case "float32" -> DataType.FLOAT;
            case "float16" -> DataType.HALF;
            case "float64" -> DataType.DOUBLE;
            default -> throw new IllegalArgumentException("--data-type must be float32, float16 or float64, got '"
                    + name + "'" + (name.equalsIgnoreCase("bfloat16") ? " (DL4J 1.0.0-M2.1's layers accept only "
                    + "DOUBLE, FLOAT and HALF)" : ""));
        };
    }
}
