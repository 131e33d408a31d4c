package io.efficientnet.train.spark;

import io.efficientnet.train.config.TrainConfig;
import io.efficientnet.train.data.ImageBatches;
import io.efficientnet.train.data.ImageFolder;
import io.efficientnet.train.step.StepRunner;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.TrainingMaster;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.linalg.dataset.api.MultiDataSet;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Optimizer steps on a Spark cluster with DL4J's Spark integration. The driver runs the usual training loop
 * ({@code Trainer}: schedule, weight average, validation, checkpoints); for each step the
 * batch's image list is split into one shard per worker, executors read and augment their shard with the same data
 * code as local training ({@link ShardLoader}), fit it on their replica, and the training master combines the
 * replicas into the driver's network with {@link ParameterAveragingTrainingMaster}: parameters and updater state
 * are averaged after every step, as {@code run.workers} does on one machine. The data is never exported to disk
 * (the direct RDD approach); each step's decoded shards are cached for that step only.
 */
public final class SparkStepRunner implements StepRunner {

    private final JavaSparkContext sc;
    private final Broadcast<SparkDataSource> source;
    private final int workers;
    private final int shardSize;
    private final long seed;
    private final StepCounterHook counter = new StepCounterHook();
    private SparkComputationGraph sparkNet;
    private ComputationGraph wrapped;

    private SparkStepRunner(TrainConfig config, ImageFolder train, JavaSparkContext sc) {
        this.sc = sc;
        Integer configured = config.spark().workers();
        this.workers = configured != null ? configured : sc.defaultParallelism();
        int batch = config.data().batchSize();
        if (batch < workers) {
            throw new IllegalArgumentException("data.batch_size " + batch + " is smaller than the " + workers
                    + " Spark workers: each step's batch is split among them; raise data.batch_size or lower "
                    + "spark.workers");
        }
        this.shardSize = (batch + workers - 1) / workers;
        this.seed = config.run().seed();
        this.source = sc.broadcast(new SparkDataSource(config, train));
    }

    /** Opens a Spark context for {@code config.spark()} (closed with the runner) and prepares the shards' data. */
    public static SparkStepRunner open(TrainConfig config, ImageFolder train) {
        if (config.run().workers() != 1) {
            throw new IllegalArgumentException("run.workers is " + config.run().workers() + " but Spark training "
                    + "sets its workers with spark.workers; leave run.workers at 1");
        }
        JavaSparkContext sc = SparkContexts.open(config.spark());
        try {
            return new SparkStepRunner(config, train, sc);
        } catch (RuntimeException e) {
            sc.close();
            throw e;
        }
    }

    /** Shards per step. */
    public int workers() {
        return workers;
    }

    @Override
    public boolean decodesOnDriver() {
        return false;
    }

    @Override
    public double step(ComputationGraph net, ImageBatches.Batch batch) {
        if (sparkNet == null || wrapped != net) {
            sparkNet = new SparkComputationGraph(sc, net, trainingMaster());
            wrapped = net;
        }
        List<Shard> shards = new ArrayList<>();
        int[] members = batch.members();
        for (int from = 0; from < members.length; from += shardSize) {
            shards.add(new Shard(batch.epoch(), Arrays.copyOfRange(members, from,
                    Math.min(members.length, from + shardSize))));
        }
        int iteration = net.getConfiguration().getIterationCount();
        counter.set(iteration, net.getConfiguration().getEpochCount());
        JavaRDD<MultiDataSet> data = sc.parallelize(shards, shards.size()).flatMap(new ShardLoader(source));
        try {
            sparkNet.fitMultiDataSet(data);
        } finally {
            data.unpersist(false);
        }
        // one optimizer step per worker, whatever the master counted: keeps the schedule in step with the loop
        net.getConfiguration().setIterationCount(iteration + 1);
        return sparkNet.getScore(); // the workers' mean minibatch loss
    }

    private TrainingMaster<?, ?> trainingMaster() {
        return new ParameterAveragingTrainingMaster.Builder(workers, shardSize).batchSizePerWorker(shardSize)
                .averagingFrequency(1).workerPrefetchNumBatches(0).saveUpdater(true).rngSeed(seed)
                .trainingHooks(counter)
                .rddTrainingApproach(RDDTrainingApproach.Direct).repartionData(Repartition.Never)
                .storageLevel(StorageLevel.MEMORY_ONLY()).collectTrainingStats(false).build();
    }

    @Override
    public void close() {
        if (sparkNet != null) {
            sparkNet.getTrainingMaster().deleteTempFiles(sc);
        }
        source.destroy();
        sc.close();
    }
}
