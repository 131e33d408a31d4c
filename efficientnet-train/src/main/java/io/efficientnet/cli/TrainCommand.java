package io.efficientnet.cli;

import io.efficientnet.train.config.ConfigLoader;
import io.efficientnet.train.config.TrainConfig;
import io.efficientnet.train.run.Trainer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

/** {@code efficientnet train}: trains on an ImageNet-style folder with a recipe from {@code config/}. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train EfficientNet on DATA/train/<class>/* (+ DATA/val/<class>/*) or on one folder of class "
                + "folders with a validation split.",
                "Configuration: the defaults (the paper's ImageNet recipe for B0), then each --config file, then "
                        + "the options below; --print-config shows the result."})
public final class TrainCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec commandSpec;

    @Option(names = "--config", paramLabel = "FILE", description = "YAML recipe(s), e.g. config/quickstart.yaml")
    List<Path> configs = new ArrayList<>();

    @Option(names = "--data", paramLabel = "DIR", description = "data folder (data.path)")
    String data;

    @Option(names = "--output", paramLabel = "DIR", description = "run folder (run.output)")
    String output;

    @Option(names = "--epochs", description = "epochs (run.epochs)")
    Integer epochs;

    @Option(names = "--batch-size", description = "images per step (data.batch_size)")
    Integer batchSize;

    @Option(names = "--workers", description = "data-parallel replicas, one per device (run.workers)")
    Integer workers;

    @Option(names = "--engine", paramLabel = "ENGINE", description = "what computes training steps and validation: "
            + "auto (oneDNN where it can run the network, else DL4J, saying why), onednn or dl4j (run.engine)")
    String engine;

    @Option(names = "--spark-master", paramLabel = "URL",
            description = "train on Spark: local[N], spark://HOST:7077, yarn, ... (spark.master); 'spark-submit' "
                    + "when launched by spark-submit")
    String sparkMaster;

    @Option(names = "--spark-workers", description = "Spark workers, one shard of each batch each (spark.workers)")
    Integer sparkWorkers;

    @Option(names = "--spark-averaging-frequency", paramLabel = "K", description = "steps each Spark worker takes "
            + "on its own shards between two averagings of the replicas (spark.averaging_frequency, default 1)")
    Integer sparkAveragingFrequency;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "override any value, e.g. --set optimizer.lr_per_256=0.008 (repeatable)")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--resume", paramLabel = "DIR",
            description = "continue the run in DIR from its newest checkpoint: DIR/config.yaml, then any --config "
                    + "files and options (changed values are listed)")
    Path resume;

    @Option(names = "--print-config", description = "print the merged configuration as YAML and exit")
    boolean printConfig;

    @Option(names = "--backend", description = "cpu or cuda: fail unless this build runs on it")
    String backend;

    @Option(names = "--ui", description = "serve DL4J's training UI while training")
    boolean ui;

    @Option(names = "--ui-port", defaultValue = "9000", description = "port of the training UI (default: ${DEFAULT-VALUE})")
    int uiPort;

    @Option(names = "--no-progress", description = "no progress bars (epoch summaries only)")
    boolean noProgress;

    @Override
    public Integer call() throws Exception {
        TrainConfig config = config();
        PrintWriter out = commandSpec.commandLine().getOut();
        if (printConfig) {
            out.print(ConfigLoader.toYaml(config));
            out.flush();
            return 0;
        }
        Backend.require(backend);
        Consumer<ComputationGraph> onNetwork = ui ? TrainingUi.attach(uiPort, out::println) : net -> { };
        Trainer trainer = new Trainer(config, out::println, !noProgress, new Trainer.Listener() { }, onNetwork);
        StopSignals signals = StopSignals.install(trainer::requestStop);
        Trainer.Outcome outcome;
        try {
            outcome = trainer.run(resume != null);
        } finally {
            signals.uninstall();
        }
        if (signals.received() != null) {
            out.flush();
            return signals.exitStatus();
        }
        if (outcome.finished() && outcome.lastValidation() != null) {
            out.printf(Locale.ROOT, "final validation (EMA weights): top-1 %.2f%%, top-5 %.2f%% on %d images%n",
                    100 * outcome.lastValidation().top1(), 100 * outcome.lastValidation().top5(),
                    outcome.lastValidation().count());
        }
        return 0;
    }

    /**
     * The merged configuration: the defaults (or, with --resume, the run's own config.yaml), then the --config files,
     * then the options; later ones win.
     */
    TrainConfig config() throws IOException {
        List<Path> files = new ArrayList<>();
        List<String> sets = new ArrayList<>();
        TrainConfig saved = null;
        if (resume != null) {
            Path savedFile = resume.resolve("config.yaml");
            if (!Files.isRegularFile(savedFile)) {
                throw new IOException(resume + " is not a run folder (no config.yaml)");
            }
            if (output != null && !Path.of(output).toAbsolutePath().normalize()
                    .equals(resume.toAbsolutePath().normalize())) {
                throw new IllegalArgumentException("--resume " + resume + " continues in its own folder, but --output "
                        + "names " + output + ": drop one of them");
            }
            files.add(savedFile);
            // read for the comparison only: the merged load below reports its retired keys
            saved = ConfigLoader.load(List.of(savedFile), List.of(), warning -> { });
        }
        files.addAll(configs);
        if (data != null) {
            sets.add("data.path=" + data);
        }
        if (output != null) {
            sets.add("run.output=" + output);
        }
        if (epochs != null) {
            sets.add("run.epochs=" + epochs);
        }
        if (batchSize != null) {
            sets.add("data.batch_size=" + batchSize);
        }
        if (workers != null) {
            sets.add("run.workers=" + workers);
        }
        if (engine != null) {
            sets.add("run.engine=" + engine);
        }
        if (sparkMaster != null) {
            sets.add("spark.master=" + sparkMaster);
        }
        if (sparkWorkers != null) {
            sets.add("spark.workers=" + sparkWorkers);
        }
        if (sparkAveragingFrequency != null) {
            sets.add("spark.averaging_frequency=" + sparkAveragingFrequency);
        }
        sets.addAll(overrides);
        if (resume != null) {
            sets.add("run.output=" + resume);
        }
        TrainConfig merged = ConfigLoader.load(files, sets, this::warn);
        if (saved != null) {
            for (String change : ConfigLoader.differences(saved, merged)) {
                commandSpec.commandLine().getOut().println("resuming with " + change);
            }
        }
        return merged;
    }

    private void warn(String line) {
        commandSpec.commandLine().getErr().println(line);
    }
}
