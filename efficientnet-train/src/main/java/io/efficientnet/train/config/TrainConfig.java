package io.efficientnet.train.config;

import io.efficientnet.core.engine.Engine;

/**
 * The whole training configuration, as {@code train --print-config} shows it. Defaults are the paper's ImageNet
 * recipe for B0 (TensorFlow reference: RMSProp ρ 0.9, momentum 0.9, ε 1e-3, 0.016 per 256 images, 5 warm-up epochs,
 * ×0.97 every 2.4 epochs, weight decay 1e-5, label smoothing 0.1, EMA 0.9999, 350 epochs).
 */
public record TrainConfig(ModelConfig model, DataConfig data, OptimizerConfig optimizer, ScheduleConfig schedule,
                          EmaConfig ema, RunConfig run, SparkConfig spark) {

    public TrainConfig {
        if (model == null || data == null || optimizer == null || schedule == null || ema == null || run == null
                || spark == null) {
            throw new IllegalArgumentException(
                    "every section (model, data, optimizer, schedule, ema, run, spark) is needed");
        }
        if (spark.enabled() && run.engineChoice() == Engine.ONEDNN) {
            throw new IllegalArgumentException("run.engine onednn trains on this machine, but spark.master is set: "
                    + "Spark executors train with DL4J; use run.engine auto (validation on the driver still runs "
                    + "in oneDNN)");
        }
    }

    /** The reference ImageNet recipe for B0. */
    public static TrainConfig defaults() {
        return new TrainConfig(
                new ModelConfig("b0", null, null, null, null, null, 0.2, 0.99, null),
                new DataConfig("data/imagenet", 0.0, 256, 4, 4,
                        0.08, 0.5, 0, 9, 0.1, 0.875),
                new OptimizerConfig("rmsprop", 0.016, 0.9, 0.9, 1e-3, 1e-5),
                new ScheduleConfig("exponential", 5, 0.97, 2.4),
                new EmaConfig(0.9999),
                new RunConfig(350, 42, "runs/efficientnet", 0, 3, null, 1, "auto"),
                new SparkConfig(null, null, 1));
    }
}
