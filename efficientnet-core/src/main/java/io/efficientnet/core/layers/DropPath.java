package io.efficientnet.core.layers;

import org.deeplearning4j.nn.conf.dropout.IDropout;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.api.ops.random.impl.BernoulliDistribution;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.annotation.JsonIgnoreProperties;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Per-sample stochastic depth ("drop path", called drop-connect in the EfficientNet reference): while training, each
 * sample's whole activation is zeroed with probability {@code rate} and kept samples are scaled by
 * {@code 1/(1−rate)}; at inference it is the identity (DL4J applies {@link IDropout}s only while training). Use it
 * inside a {@code DropoutLayer} on the residual branch, before the add.
 */
@JsonIgnoreProperties({"mask"})
public class DropPath implements IDropout {

    private double rate;
    private transient INDArray mask;

    /** For JSON deserialization. */
    public DropPath() {
        this(0.0);
    }

    /** @param rate probability that a sample's branch is dropped, in [0, 1) */
    public DropPath(@JsonProperty("rate") double rate) {
        if (!(rate >= 0 && rate < 1)) {
            throw new IllegalArgumentException("drop-path rate must be in [0, 1), got " + rate);
        }
        this.rate = rate;
    }

    /** Probability that a sample's branch is dropped. */
    public double getRate() {
        return rate;
    }

    /** Sets the drop probability (for JSON deserialization). */
    public void setRate(double rate) {
        this.rate = rate;
    }

    @Override
    public INDArray applyDropout(INDArray input, INDArray output, int iteration, int epoch,
            LayerWorkspaceMgr workspaceMgr) {
        long n = input.size(0);
        mask = workspaceMgr.createUninitialized(ArrayType.INPUT, input.dataType(), new long[] {n}, 'c');
        if (rate == 0) {
            mask.assign(1.0);
        } else {
            double keep = 1.0 - rate;
            Nd4j.getExecutioner().exec(new BernoulliDistribution(mask, keep));
            mask.divi(keep);
        }
        Nd4j.getExecutioner().exec(new BroadcastMulOp(input, mask, output, 0));
        return output;
    }

    @Override
    public INDArray backprop(INDArray gradAtOutput, INDArray gradAtInput, int iteration, int epoch) {
        if (mask == null) {
            throw new IllegalStateException("DropPath.backprop called without a preceding training forward pass");
        }
        Nd4j.getExecutioner().exec(new BroadcastMulOp(gradAtOutput, mask, gradAtInput, 0));
        mask = null;
        return gradAtInput;
    }

    @Override
    public void clear() {
        mask = null;
    }

    @Override
    public DropPath clone() {
        return new DropPath(rate);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DropPath d && d.rate == rate;
    }

    @Override
    public int hashCode() {
        return Double.hashCode(rate);
    }

    @Override
    public String toString() {
        return "DropPath(rate=" + rate + ")";
    }
}
