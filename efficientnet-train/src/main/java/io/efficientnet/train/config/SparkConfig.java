package io.efficientnet.train.config;

import java.util.Set;

/**
 * Training on a Spark cluster ({@code spark:} in the YAML; {@code train --spark-master URL}). Each optimizer step's
 * batch is split into one shard per Spark worker; executors read and augment their shard's images (the same data
 * code as local training), fit it, and DL4J's training master combines the replicas.
 *
 * @param master          Spark master URL ({@code local[2]}, {@code spark://host:7077}, {@code yarn}, ...);
 *                        {@code spark-submit} takes it from spark-submit; null: train without Spark
 * @param trainingMaster  {@code parameter_averaging}: parameters and updater state averaged after every step (the one
 *                        supported value; DL4J's gradient-sharing master did not learn when driven step by step, see
 *                        the README's "Scaling out")
 * @param workers         shards per step (Spark task slots used); null: Spark's default parallelism
 */
public record SparkConfig(String master, String trainingMaster, Integer workers) {

    /** The master value that means "spark-submit set the master". */
    public static final String FROM_SPARK_SUBMIT = "spark-submit";

    public SparkConfig {
        if ("gradient_sharing".equals(trainingMaster)) {
            throw new IllegalArgumentException("spark.training_master: gradient_sharing is not supported: DL4J "
                    + "1.0.0-M2's SharedTrainingMaster, driven one step per Spark job, did not learn in this project's "
                    + "tests (validation stayed at chance); use parameter_averaging");
        }
        ConfigChecks.oneOf("spark.training_master", trainingMaster, Set.of("parameter_averaging"));
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
