package io.efficientnet.train.recipe;

import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonProperty;

import java.util.Objects;

/**
 * Learning rate per iteration: a linear warm-up from 0 to {@code baseLr} over {@code warmupSteps}, then one of
 * <ul>
 *   <li>{@link Shape#EXPONENTIAL}: {@code baseLr · decayRate^floor(step / decaySteps)} (staircase, counted from step 0
 *       as in the TensorFlow reference; ×0.97 every 2.4 epochs in the paper);</li>
 *   <li>{@link Shape#COSINE}: {@code baseLr · (1 + cos(π · step / totalSteps)) / 2};</li>
 *   <li>{@link Shape#CONSTANT}: {@code baseLr}.</li>
 * </ul>
 * Unlike DL4J's {@code RampSchedule}, it round-trips through the network's JSON, so saved models restore.
 */
public final class WarmupSchedule implements ISchedule {

    /** What follows the warm-up. */
    public enum Shape { EXPONENTIAL, COSINE, CONSTANT }

    private final Shape shape;
    private final double baseLr;
    private final long warmupSteps;
    private final double decayRate;
    private final double decaySteps;
    private final long totalSteps;

    /**
     * @param shape       what follows the warm-up
     * @param baseLr      peak learning rate
     * @param warmupSteps iterations of linear warm-up (0 for none)
     * @param decayRate   factor per decay period (exponential)
     * @param decaySteps  decay period in iterations (exponential; may be fractional)
     * @param totalSteps  iterations of the whole run (cosine)
     */
    public WarmupSchedule(@JsonProperty("shape") Shape shape, @JsonProperty("baseLr") double baseLr,
            @JsonProperty("warmupSteps") long warmupSteps, @JsonProperty("decayRate") double decayRate,
            @JsonProperty("decaySteps") double decaySteps, @JsonProperty("totalSteps") long totalSteps) {
        if (shape == null || !(baseLr > 0) || warmupSteps < 0 || !(decayRate > 0) || !(decaySteps > 0)
                || totalSteps < 1) {
            throw new IllegalArgumentException("bad learning-rate schedule: shape " + shape + ", lr " + baseLr
                    + ", warm-up " + warmupSteps + ", decay " + decayRate + " every " + decaySteps + ", total "
                    + totalSteps);
        }
        this.shape = shape;
        this.baseLr = baseLr;
        this.warmupSteps = warmupSteps;
        this.decayRate = decayRate;
        this.decaySteps = decaySteps;
        this.totalSteps = totalSteps;
    }

    @Override
    public double valueAt(int iteration, int epoch) {
        if (iteration < warmupSteps) {
            return baseLr * iteration / warmupSteps;
        }
        return switch (shape) {
            case EXPONENTIAL -> baseLr * Math.pow(decayRate, Math.floor(iteration / decaySteps));
            case COSINE -> baseLr * 0.5 * (1 + Math.cos(Math.PI * Math.min(iteration, totalSteps) / totalSteps));
            case CONSTANT -> baseLr;
        };
    }

    @Override
    public ISchedule clone() {
        return new WarmupSchedule(shape, baseLr, warmupSteps, decayRate, decaySteps, totalSteps);
    }

    public Shape getShape() {
        return shape;
    }

    public double getBaseLr() {
        return baseLr;
    }

    public long getWarmupSteps() {
        return warmupSteps;
    }

    public double getDecayRate() {
        return decayRate;
    }

    public double getDecaySteps() {
        return decaySteps;
    }

    public long getTotalSteps() {
        return totalSteps;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WarmupSchedule w && w.shape == shape && w.baseLr == baseLr && w.warmupSteps == warmupSteps
                && w.decayRate == decayRate && w.decaySteps == decaySteps && w.totalSteps == totalSteps;
    }

    @Override
    public int hashCode() {
        return Objects.hash(shape, baseLr, warmupSteps, decayRate, decaySteps, totalSteps);
    }

    @Override
    public String toString() {
        return "WarmupSchedule(" + shape + ", lr " + baseLr + ", warm-up " + warmupSteps + " steps, decay "
                + decayRate + " every " + decaySteps + " steps, total " + totalSteps + ")";
    }
}
