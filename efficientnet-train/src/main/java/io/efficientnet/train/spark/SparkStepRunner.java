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
 * ({@code Trainer}: schedule, weight average, validation, checkpoints); each batch's image list is split into one
 * shard per worker, executors read and augment their shards with the same data code as local training
 * ({@link ShardLoader}) and fit them on their replica, and {@link ParameterAveragingTrainingMaster} averages the
 * replicas' parameters and updater state into the driver's network. One Spark job covers
 * {@code spark.averaging_frequency} consecutive batches: each worker takes that many steps on its own shards, then
 * the replicas are averaged (with 1, after every step, as {@code run.workers} does on one machine). The data is never
 * exported to disk (the direct RDD approach); each job's decoded shards are cached for that job only.
 */
public final class SparkStepRunner implements StepRunner {

    private final JavaSparkContext sc;
    private final Broadcast<SparkDataSource> source;
    private final int workers;
    private final int shardSize;
    private final int averagingFrequency;
    private final long seed;
    private final ReplicaStepHook hook;
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
        this.averagingFrequency = config.spark().averagingFrequency();
        if (averagingFrequency > 1 && batch % workers != 0) {
            // DL4J's workers cut their partition into minibatches of one size: unequal shards would be merged
            throw new IllegalArgumentException("spark.averaging_frequency " + averagingFrequency + " needs "
                    + "data.batch_size (" + batch + ") to be a multiple of the " + workers + " Spark workers, so "
                    + "that every worker's step has the same number of images");
        }
        this.shardSize = (batch + workers - 1) / workers;
        this.seed = config.run().seed();
        this.hook = new ReplicaStepHook(sc.sc().collectionAccumulator("efficientnet replica losses"));
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
    public int batchesPerCall() {
        return averagingFrequency;
    }

    @Override
    public double step(ComputationGraph net, ImageBatches.Batch batch) {
        return steps(net, List.of(batch))[0];
    }

    /**
     * One Spark job: partition {@code w} holds worker {@code w}'s shard of each batch in order, so each worker takes
     * one step per batch on its replica before the replicas are averaged. Returns each batch's loss: the workers'
     * losses of that step, weighted by their images.
     */
    @Override
    public double[] steps(ComputationGraph net, List<ImageBatches.Batch> batches) {
        if (batches.isEmpty() || batches.size() > averagingFrequency) {
            throw new IllegalArgumentException("one Spark job takes 1 to " + averagingFrequency + " batches, not "
                    + batches.size());
        }
        if (sparkNet == null || wrapped != net) {
            sparkNet = new SparkComputationGraph(sc, net, trainingMaster());
            wrapped = net;
        }
        List<Shard> shards = new ArrayList<>(workers * batches.size());
        for (int w = 0; w < workers; w++) {
            for (ImageBatches.Batch batch : batches) {
                shards.add(shardOf(batch, w));
            }
        }
        int iteration = net.getConfiguration().getIterationCount();
        hook.startJob(iteration, net.getConfiguration().getEpochCount());
        JavaRDD<MultiDataSet> data = sc.parallelize(shards, workers).flatMap(new ShardLoader(source));
        try {
            sparkNet.fitMultiDataSet(data);
        } finally {
            data.unpersist(false);
        }
        // one optimizer step per batch, whatever the master counted: keeps the schedule in step with the loop
        net.getConfiguration().setIterationCount(iteration + batches.size());
        double[] losses = hook.stepLosses(batches.size());
        if (batches.size() == 1 && Double.isNaN(losses[0])) {
            losses[0] = sparkNet.getScore();
        }
        return losses;
    }

    /**
     * Worker {@code w}'s part of {@code batch}: the {@code w}-th slice of {@code ceil(size / workers)} images (the last
     * workers' shorter or empty when the batch is short, as the epoch's last can be).
     */
    private Shard shardOf(ImageBatches.Batch batch, int w) {
        int[] members = batch.members();
        int per = (members.length + workers - 1) / workers;
        int from = Math.min(members.length, w * per);
        return new Shard(batch.epoch(), Arrays.copyOfRange(members, from, Math.min(members.length, from + per)));
    }

    private TrainingMaster<?, ?> trainingMaster() {
        return new ParameterAveragingTrainingMaster.Builder(workers, shardSize).batchSizePerWorker(shardSize)
                .averagingFrequency(averagingFrequency).workerPrefetchNumBatches(0).saveUpdater(true).rngSeed(seed)
                .trainingHooks(hook)
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
