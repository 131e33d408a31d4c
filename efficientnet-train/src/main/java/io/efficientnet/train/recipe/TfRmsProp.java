package io.efficientnet.train.recipe;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;

import java.util.Map;
import java.util.Objects;

/**
 * TensorFlow's RMSProp with momentum, the optimizer of the EfficientNet paper (DL4J's {@code RmsProp} has no momentum
 * and differs in the other points too). Per parameter, with learning rate {@code lr}:
 * <pre>
 *   ms  = ρ·ms + (1 − ρ)·g²
 *   mom = μ·mom + lr·g / sqrt(ms + ε)
 *   w  -= mom
 * </pre>
 * {@code ms} starts at 1 and {@code mom} at 0, as in TensorFlow 1's {@code RMSPropOptimizer}; ε is inside the square
 * root and the learning rate is accumulated in the momentum buffer. Serializes to JSON with the network (the schedule
 * too, if it is serializable).
 */
public class TfRmsProp implements IUpdater {

    private double learningRate = 0.016;
    private ISchedule learningRateSchedule;
    private double rmsDecay = 0.9;
    private double momentum = 0.9;
    private double epsilon = 1e-3;

    /** The reference settings (lr 0.016, ρ 0.9, μ 0.9, ε 1e-3); for JSON. */
    public TfRmsProp() {
    }

    /** RMSProp with the given learning-rate schedule and ρ, μ, ε. */
    public TfRmsProp(ISchedule learningRateSchedule, double rmsDecay, double momentum, double epsilon) {
        this.learningRateSchedule = learningRateSchedule;
        this.rmsDecay = rmsDecay;
        this.momentum = momentum;
        this.epsilon = epsilon;
    }

    /** RMSProp with a fixed learning rate and ρ, μ, ε. */
    public TfRmsProp(double learningRate, double rmsDecay, double momentum, double epsilon) {
        this(null, rmsDecay, momentum, epsilon);
        this.learningRate = learningRate;
    }

    @Override
    public long stateSize(long numParams) {
        return 2 * numParams;
    }

    @Override
    public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
        TfRmsPropUpdater u = new TfRmsPropUpdater(this);
        long[] gradientShape = viewArray.shape().clone(); // the view holds ms and mom back to back
        gradientShape[gradientShape.length - 1] /= 2;
        u.setStateViewArray(viewArray, gradientShape, viewArray.ordering(), initializeViewArray);
        return u;
    }

    @Override
    public GradientUpdater instantiate(Map<String, INDArray> updaterState, boolean initializeStateArrays) {
        TfRmsPropUpdater u = new TfRmsPropUpdater(this);
        u.setState(updaterState, initializeStateArrays);
        return u;
    }

    @Override
    public TfRmsProp clone() {
        TfRmsProp c = new TfRmsProp(learningRateSchedule == null ? null : learningRateSchedule.clone(), rmsDecay,
                momentum, epsilon);
        c.learningRate = learningRate;
        return c;
    }

    @Override
    public double getLearningRate(int iteration, int epoch) {
        return learningRateSchedule != null ? learningRateSchedule.valueAt(iteration, epoch) : learningRate;
    }

    @Override
    public boolean hasLearningRate() {
        return true;
    }

    @Override
    public void setLrAndSchedule(double lr, ISchedule lrSchedule) {
        this.learningRate = lr;
        this.learningRateSchedule = lrSchedule;
    }

    public double getLearningRate() {
        return learningRate;
    }

    public void setLearningRate(double learningRate) {
        this.learningRate = learningRate;
    }

    public ISchedule getLearningRateSchedule() {
        return learningRateSchedule;
    }

    public void setLearningRateSchedule(ISchedule learningRateSchedule) {
        this.learningRateSchedule = learningRateSchedule;
    }

    public double getRmsDecay() {
        return rmsDecay;
    }

    public void setRmsDecay(double rmsDecay) {
        this.rmsDecay = rmsDecay;
    }

    public double getMomentum() {
        return momentum;
    }

    public void setMomentum(double momentum) {
        this.momentum = momentum;
    }

    public double getEpsilon() {
        return epsilon;
    }

    public void setEpsilon(double epsilon) {
        this.epsilon = epsilon;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TfRmsProp t && t.learningRate == learningRate && t.rmsDecay == rmsDecay
                && t.momentum == momentum && t.epsilon == epsilon
                && Objects.equals(t.learningRateSchedule, learningRateSchedule);
    }

    @Override
    public int hashCode() {
        return Objects.hash(learningRate, learningRateSchedule, rmsDecay, momentum, epsilon);
    }

    @Override
    public String toString() {
        return "TfRmsProp(lr=" + (learningRateSchedule != null ? learningRateSchedule : learningRate) + ", rho="
                + rmsDecay + ", momentum=" + momentum + ", epsilon=" + epsilon + ")";
    }
}
