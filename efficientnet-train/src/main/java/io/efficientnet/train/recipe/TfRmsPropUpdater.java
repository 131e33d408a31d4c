package io.efficientnet.train.recipe;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.HashMap;
import java.util.Map;

/** The state and update step of {@link TfRmsProp}: {@code ms} and {@code mom}, one entry per parameter each. */
public class TfRmsPropUpdater implements GradientUpdater<TfRmsProp> {

    /** Name of the mean-square state in {@link #getState()}. */
    public static final String MS = "ms";
    /** Name of the momentum state in {@link #getState()}. */
    public static final String MOMENTUM = "mom";

    private final TfRmsProp config;
    private INDArray ms;
    private INDArray mom;

    /** An updater with no state yet. */
    public TfRmsPropUpdater(TfRmsProp config) {
        this.config = config;
    }

    @Override
    public TfRmsProp getConfig() {
        return config;
    }

    @Override
    public void setState(Map<String, INDArray> state, boolean initialize) {
        if (!state.containsKey(MS) || !state.containsKey(MOMENTUM) || state.size() != 2) {
            throw new IllegalStateException("TfRmsProp state must hold '" + MS + "' and '" + MOMENTUM + "', got "
                    + state.keySet());
        }
        ms = state.get(MS);
        mom = state.get(MOMENTUM);
        if (initialize) {
            ms.assign(1.0);
            mom.assign(0.0);
        }
    }

    @Override
    public Map<String, INDArray> getState() {
        Map<String, INDArray> state = new HashMap<>();
        state.put(MS, ms);
        state.put(MOMENTUM, mom);
        return state;
    }

    @Override
    public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder, boolean initialize) {
        if (!viewArray.isRowVectorOrScalar()) {
            throw new IllegalArgumentException("TfRmsProp state view must be a row vector, got "
                    + java.util.Arrays.toString(viewArray.shape()));
        }
        long n = viewArray.length() / 2;
        ms = half(viewArray, 0, n).reshape(gradientOrder, gradientShape);
        mom = half(viewArray, n, 2 * n).reshape(gradientOrder, gradientShape);
        if (initialize) {
            ms.assign(1.0);
            mom.assign(0.0);
        }
    }

    /** A view of elements {@code [from, to)} of a rank-1 or {@code [1, N]} state array. */
    private static INDArray half(INDArray view, long from, long to) {
        return view.rank() == 1 ? view.get(NDArrayIndex.interval(from, to))
                : view.get(NDArrayIndex.point(0), NDArrayIndex.interval(from, to));
    }

    /** Turns {@code gradient} into the step that DL4J subtracts from the parameters. */
    @Override
    public void applyUpdater(INDArray gradient, int iteration, int epoch) {
        if (ms == null) {
            throw new IllegalStateException("TfRmsProp updater has no state view array");
        }
        double lr = config.getLearningRate(iteration, epoch);
        double rho = config.getRmsDecay();
        // ms = rho*ms + (1-rho)*g^2
        ms.muli(rho).addi(gradient.mul(gradient).muli(1 - rho));
        // mom = mu*mom + lr*g/sqrt(ms+eps)
        INDArray step = Transforms.sqrt(ms.add(config.getEpsilon()), false).rdivi(lr).muli(gradient);
        mom.muli(config.getMomentum()).addi(step);
        gradient.assign(mom);
    }
}
