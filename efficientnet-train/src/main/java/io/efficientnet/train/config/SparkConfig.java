package io.efficientnet.train.config;

/**
 * Training on a Spark cluster ({@code spark:} in the YAML; {@code train --spark-master URL}). Each optimizer step's
 * batch is split into one shard per Spark worker; executors read and augment their shard's images (the same data
 * code as local training), fit it, and DL4J's parameter-averaging master averages the replicas' parameters and
 * updater state after the step.
 *
 * @param master          Spark master URL ({@code local[2]}, {@code spark://host:7077}, {@code yarn}, ...);
 *                        {@code spark-submit} takes it from spark-submit; null: train without Spark
 * @param workers         shards per step (Spark task slots used); null: Spark's default parallelism
 */
public record SparkConfig(String master, Integer workers) {

    /** The master value that means "spark-submit set the master". */
    public static final String FROM_SPARK_SUBMIT = "spark-submit";

    public SparkConfig {
        if (workers != null) {
            ConfigChecks.atLeast("spark.workers", workers, 1);
        }
        if (master != null && master.isBlank()) {
            throw new IllegalArgumentException("spark.master must be a Spark master URL, 'spark-submit' or absent");
        }
    }

    /** Whether the run uses Spark. */
    public boolean enabled() {
        return master != null;
    }
}
