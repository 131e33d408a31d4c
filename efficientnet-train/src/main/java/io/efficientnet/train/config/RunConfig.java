package io.efficientnet.train.config;

/**
 * How long to train and what to keep ({@code run:} in the YAML).
 *
 * @param epochs              epochs to train
 * @param seed                seed of weight init, data order, augmentation and dropout (runs are repeatable)
 * @param output              run folder (metrics, plots, models, checkpoints)
 * @param checkpointEvery     also checkpoint every this many iterations (0: at epoch ends only)
 * @param keepCheckpoints     how many of the latest checkpoints to keep
 * @param stopAfterIterations stop (with a checkpoint) after this many iterations in all, or null; for smoke runs
 * @param workers             data-parallel replicas (one per device, DL4J ParallelWrapper; each step's batch is split
 *                            among them and parameters are averaged every step); 1 = single device
 * @param evalShards          validation batches cut into this many single-threaded shards run side by side
 *                            ({@code ShardedInference}; same results, faster on a few cores); 1 = one forward pass
 * @param trainShards         each training batch cut into this many single-threaded shards run side by side, with
 *                            batch norm synchronised across them and one update from the summed gradients
 *                            ({@code ShardedTraining}; the same step as one {@code fit}, faster on a few cores); 1 =
 *                            one {@code fit} per batch
 * @param trainEngine         what computes each step on one device: {@code dl4j} (the network's own layers) or
 *                            {@code onednn} ({@code OneDnnTraining}: the forward and backward pass as oneDNN
 *                            primitives in blocked layouts, the network's updater; the same step within float rounding)
 */
public record RunConfig(int epochs, long seed, String output, int checkpointEvery, int keepCheckpoints,
                        Integer stopAfterIterations, int workers, int evalShards, int trainShards,
                        String trainEngine) {

    /** {@code run.train_engine} values. */
    public static final java.util.List<String> TRAIN_ENGINES = java.util.List.of("dl4j", "onednn");

    public RunConfig {
        ConfigChecks.atLeast("run.epochs", epochs, 1);
        if (output == null || output.isBlank()) {
            throw new IllegalArgumentException("run.output must name a folder");
        }
        ConfigChecks.atLeast("run.checkpoint_every", checkpointEvery, 0);
        ConfigChecks.atLeast("run.keep_checkpoints", keepCheckpoints, 1);
        ConfigChecks.atLeast("run.workers", workers, 1);
        ConfigChecks.atLeast("run.eval_shards", evalShards, 1);
        ConfigChecks.atLeast("run.train_shards", trainShards, 1);
        if (trainShards > 1 && workers > 1) {
            throw new IllegalArgumentException("run.train_shards (" + trainShards + ") and run.workers (" + workers
                    + ") both split each batch: use one of them (train_shards for the cores of one machine, workers "
                    + "for several devices)");
        }
        if (!TRAIN_ENGINES.contains(trainEngine)) {
            throw new IllegalArgumentException("run.train_engine must be one of " + TRAIN_ENGINES + ", got '"
                    + trainEngine + "'");
        }
        if (trainEngine.equals("onednn") && (trainShards > 1 || workers > 1)) {
            throw new IllegalArgumentException("run.train_engine onednn computes each whole batch in oneDNN on this "
                    + "machine's threads; run.train_shards (" + trainShards + ") and run.workers (" + workers
                    + ") split batches over DL4J replicas: use train_engine dl4j with them");
        }
        if (stopAfterIterations != null) {
            ConfigChecks.atLeast("run.stop_after_iterations", stopAfterIterations, 1);
        }
    }
}
