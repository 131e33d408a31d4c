package io.efficientnet.train.spark;

import io.efficientnet.train.config.SparkConfig;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/** Creates the Spark context of a training run. */
final class SparkContexts {

    private SparkContexts() {
    }

    /**
     * A context for {@code config.master()}: DL4J's Kryo registrator for ND4J arrays; for {@code local[...]} masters
     * the driver binds to 127.0.0.1 and Spark's web UI is off; log level WARN (Spark logs hundreds of INFO lines per
     * job otherwise). With {@link SparkConfig#FROM_SPARK_SUBMIT} the master and any other settings come from
     * spark-submit. When {@code spark.executor.cores} is set, executors' native thread pools (OpenMP, used by ND4J and
     * oneDNN) get that many threads unless {@code spark.executorEnv.OMP_NUM_THREADS} says otherwise: by default
     * they take every core of the machine, and executors sharing a machine would oversubscribe it.
     */
    static JavaSparkContext open(SparkConfig config) {
        SparkConf conf = new SparkConf().setAppName("efficientnet train")
                .setIfMissing("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
                .setIfMissing("spark.kryo.registrator", "org.nd4j.kryo.Nd4jRegistrator");
        if (!SparkConfig.FROM_SPARK_SUBMIT.equals(config.master())) {
            conf.setMaster(config.master());
        } else if (!conf.contains("spark.master")) {
            throw new IllegalStateException("spark.master is 'spark-submit' but no master was set: run the CLI "
                    + "through spark-submit --master URL, or pass --spark-master URL");
        }
        if (conf.contains("spark.executor.cores")) {
            conf.setIfMissing("spark.executorEnv.OMP_NUM_THREADS", conf.get("spark.executor.cores"));
        }
        if (conf.get("spark.master").startsWith("local")) {
            conf.setIfMissing("spark.driver.host", "127.0.0.1").setIfMissing("spark.driver.bindAddress", "127.0.0.1")
                    .setIfMissing("spark.ui.enabled", "false");
        }
        JavaSparkContext sc = new JavaSparkContext(conf);
        sc.setLogLevel("WARN");
        return sc;
    }
}
