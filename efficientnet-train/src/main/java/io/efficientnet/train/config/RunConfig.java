package io.efficientnet.train.config;

import io.efficientnet.core.engine.Engine;

/**
 * How long to train and what to keep ({@code run:} in the YAML).
 *
 * @param epochs              epochs to train
 * @param seed                seed of weight init, data order, augmentation and dropout (runs are repeatable)
 * @param output              run folder (metrics, plots, models, checkpoints)
 * @param checkpointEvery     also checkpoint every this many iterations (0: at epoch ends only)
 * @param keepCheckpoints     how many of the latest checkpoints to keep
 * @param stopAfterIterations stop (with a checkpoint) after this many iterations in all, or null; for smoke runs
 * @param workers             data-parallel replicas, one per device (DL4J {@code ParallelWrapper}: each step's batch
 *                            is split among them and parameters are averaged every step); 1 = one device
 * @param engine              what computes training steps and validation on one device: {@code auto} (oneDNN where it
 *                            can run the network, else DL4J), {@code onednn} or {@code dl4j}
 *                            ({@link io.efficientnet.core.engine.Engine})
 */
public record RunConfig(int epochs, long seed, String output, int checkpointEvery, int keepCheckpoints,
                        Integer stopAfterIterations, int workers, String engine) {

    public RunConfig {
        ConfigChecks.atLeast("run.epochs", epochs, 1);
        if (output == null || output.isBlank()) {
            throw new IllegalArgumentException("run.output must name a folder");
        }
        ConfigChecks.atLeast("run.checkpoint_every", checkpointEvery, 0);
        ConfigChecks.atLeast("run.keep_checkpoints", keepCheckpoints, 1);
        ConfigChecks.atLeast("run.workers", workers, 1);
        Engine parsed = Engine.parse(engine, "run.engine");
        engine = parsed.id();
        if (parsed == Engine.ONEDNN && workers > 1) {
            throw new IllegalArgumentException("run.engine onednn trains on this machine's cores, run.workers ("
                    + workers + ") replicates the network on several devices through DL4J: use run.engine auto or "
                    + "dl4j with run.workers");
        }
        if (stopAfterIterations != null) {
            ConfigChecks.atLeast("run.stop_after_iterations", stopAfterIterations, 1);
        }
    }

    /** {@link #engine} as the enum. */
    public Engine engineChoice() {
        return Engine.parse(engine, "run.engine");
    }
}
