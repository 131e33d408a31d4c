package io.efficientnet.train.spark;

import java.io.Serializable;

/**
 * One worker's part of a training batch: image indexes into the training split and the epoch (which seeds their
 * augmentation). A plain class, not a record: Spark's Kryo cannot serialise records.
 */
final class Shard implements Serializable {

    private static final long serialVersionUID = 1L;
    private final int epoch;
    private final int[] members;

    Shard(int epoch, int[] members) {
        this.epoch = epoch;
        this.members = members;
    }

    int epoch() {
        return epoch;
    }

    int[] members() {
        return members;
    }
}
