package io.efficientnet.core.layers;

import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;

/**
 * DL4J's "distributed-safe" running-statistic update of a batch norm, written as the gradients its no-op updater
 * subtracts: {@code (1−d)·(mean − batchMean)} for the running mean, and for the variance
 * {@code log10(std_t / std_{t+1})} with {@code var_{t+1} = d·var_t + (1−d)·batchVar} when stored as
 * {@code log10stdev}, else {@code (1−d)·(var − batchVar)}. Used by {@link FastBatchNormalizationLayer} and the oneDNN
 * training engine, so both move the statistics exactly as DL4J's layer does.
 */
public final class RunningStatistics {

    private static final double ONE_ON_2LN10 = 1.0 / (2 * Math.log(10.0));

    private RunningStatistics() {
    }

    /** The parameter key that holds the running variance: {@code log10stdev} or {@code var}. */
    public static String varianceKey(boolean useLogStd) {
        return useLogStd ? BatchNormalizationParamInitializer.GLOBAL_LOG_STD
                : BatchNormalizationParamInitializer.GLOBAL_VAR;
    }

    /** The running variance from the stored parameter: {@code (10^s)²} for {@code log10stdev}, else itself. */
    public static double[] variance(boolean useLogStd, double[] stored) {
        if (!useLogStd) {
            return stored;
        }
        double[] var = new double[stored.length];
        for (int j = 0; j < var.length; j++) {
            double std = Math.pow(10.0, stored[j]);
            var[j] = std * std;
        }
        return var;
    }

    /** The running mean's "gradient" {@code (1−d)·(mean − batchMean)}. */
    public static double[] meanGradient(double decay, double[] runningMean, double[] batchMean) {
        double[] g = new double[runningMean.length];
        for (int j = 0; j < g.length; j++) {
            g[j] = (runningMean[j] - batchMean[j]) * (1 - decay);
        }
        return g;
    }

    /** The stored variance parameter's "gradient", given the running variance (from {@link #variance}). */
    public static double[] varianceGradient(double decay, boolean useLogStd, double[] runningVar, double[] batchVar) {
        double[] g = new double[runningVar.length];
        for (int j = 0; j < g.length; j++) {
            if (useLogStd) {
                g[j] = Math.log(runningVar[j] / (decay * runningVar[j] + (1 - decay) * batchVar[j])) * ONE_ON_2LN10;
            } else {
                g[j] = (runningVar[j] - batchVar[j]) * (1 - decay);
            }
        }
        return g;
    }
}
