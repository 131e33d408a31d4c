package io.efficientnet.train.spark;

import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

import java.util.Collections;
import java.util.Iterator;

/** Runs on an executor: reads and augments a shard's images into one minibatch (none if it has no image or none was readable). */
final class ShardLoader implements FlatMapFunction<Shard, MultiDataSet> {

    private static final long serialVersionUID = 1L;
    private final Broadcast<SparkDataSource> source;

    ShardLoader(Broadcast<SparkDataSource> source) {
        this.source = source;
    }

    @Override
    public Iterator<MultiDataSet> call(Shard shard) {
        if (shard.members().length == 0) {
            return Collections.emptyIterator();
        }
        DataSet ds = source.value().assembler().assemble(shard.members(), shard.epoch());
        return ds == null ? Collections.emptyIterator() : Collections.<MultiDataSet>singletonList(
                new org.nd4j.linalg.dataset.MultiDataSet(ds.getFeatures(), ds.getLabels())).iterator();
    }
}
