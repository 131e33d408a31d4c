package io.efficientnet.train.config;

/**
 * Training on a Spark cluster ({@code spark:} in the YAML; {@code train --spark-master URL}). Each optimizer step's
 * batch is split into one shard per Spark worker; executors read and augment their shard's images (the same data
 * code as local training) and fit it on their replica of the network, and DL4J's parameter-averaging master averages
 * the replicas' parameters and updater state into the driver's network.
 *
 * @param master             Spark master URL ({@code local[2]}, {@code spark://host:7077}, {@code yarn}, ...);
 *                           {@code spark-submit} takes it from spark-submit; null: train without Spark
 * @param workers            shards per step (Spark task slots used); null: Spark's default parallelism
 * @param averagingFrequency optimizer steps each worker takes on its own shards between two averagings: 1 averages
 *                           after every step (the same updates as one machine with the whole batch, up to rounding);
 *                           K &gt; 1 sends parameters over the network K times less often, each worker then taking
 *                           K steps of its shard size on its own (more images per second, different updates)
 */
public record SparkConfig(String master, Integer workers, int averagingFrequency) {

    /** The master value that means "spark-submit set the master". */
    public static final String FROM_SPARK_SUBMIT = "spark-submit";

    public SparkConfig {
        if (workers != null) {
            ConfigChecks.atLeast("spark.workers", workers, 1);
        }
        ConfigChecks.atLeast("spark.averaging_frequency", averagingFrequency, 1);
        if (master != null && master.isBlank()) {
            throw new IllegalArgumentException("spark.master must be a Spark master URL, 'spark-submit' or absent");
        }
    }

    /** Whether the run uses Spark. */
    public boolean enabled() {
        return master != null;
    }
}
