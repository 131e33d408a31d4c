package io.efficientnet.core.layers;

import org.deeplearning4j.nn.weights.IWeightInit;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.impl.GaussianDistribution;
import org.nd4j.linalg.api.ops.random.impl.UniformDistribution;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Arrays;

/**
 * Weight initialisation of the TensorFlow EfficientNet reference, computed from the parameter's DL4J shape (DL4J's
 * own fan-out divides by the stride and its normal init is truncated, so neither matches):
 * <ul>
 *   <li>{@link Kind#CONV} (DL4J shape {@code [out,in,kH,kW]}): N(0, √(2/fan_out)), fan_out = kH·kW·out</li>
 *   <li>{@link Kind#DEPTHWISE} ({@code [kH,kW,in,multiplier]}): N(0, √(2/fan_out)), fan_out = kH·kW·multiplier</li>
 *   <li>{@link Kind#DENSE} ({@code [in,out]}): U(±1/√out)</li>
 * </ul>
 */
public class ReferenceWeightInit implements IWeightInit {

    /** Which parameter layout the init is used for. */
    public enum Kind { CONV, DEPTHWISE, DENSE }

    private Kind kind;

    /** For JSON deserialization. */
    public ReferenceWeightInit() {
        this(Kind.CONV);
    }

    /** @param kind the layer kind whose weights this initialises */
    public ReferenceWeightInit(@JsonProperty("kind") Kind kind) {
        this.kind = kind;
    }

    /** The layer kind. */
    public Kind getKind() {
        return kind;
    }

    /** Sets the layer kind (for JSON deserialization). */
    public void setKind(Kind kind) {
        this.kind = kind;
    }

    /** The fan-out the reference uses for a weight of DL4J shape {@code shape}. */
    public long fanOut(long[] shape) {
        switch (kind) {
            case CONV:
                requireRank(shape, 4);
                return shape[0] * shape[2] * shape[3];
            case DEPTHWISE:
                requireRank(shape, 4);
                return shape[0] * shape[1] * shape[3];
            case DENSE:
                requireRank(shape, 2);
                return shape[1];
            default:
                throw new IllegalStateException("unknown kind " + kind);
        }
    }

    private void requireRank(long[] shape, int rank) {
        if (shape.length != rank) {
            throw new IllegalArgumentException(kind + " init expects a rank-" + rank + " weight, got shape "
                    + Arrays.toString(shape));
        }
    }

    @Override
    public INDArray init(double fanIn, double fanOutDl4j, long[] shape, char order, INDArray paramView) {
        long fanOut = fanOut(shape);
        if (kind == Kind.DENSE) {
            double limit = 1.0 / Math.sqrt(fanOut);
            Nd4j.getExecutioner().exec(new UniformDistribution(paramView, -limit, limit));
        } else {
            Nd4j.getExecutioner().exec(new GaussianDistribution(paramView, 0.0, Math.sqrt(2.0 / fanOut)));
        }
        return paramView.reshape(order, shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ReferenceWeightInit r && r.kind == kind;
    }

    @Override
    public int hashCode() {
        return kind.hashCode();
    }

    @Override
    public String toString() {
        return "ReferenceWeightInit(" + kind + ")";
    }
}
