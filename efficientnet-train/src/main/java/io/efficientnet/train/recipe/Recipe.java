package io.efficientnet.train.recipe;

import io.efficientnet.train.config.OptimizerConfig;
import io.efficientnet.train.config.ScheduleConfig;
import io.efficientnet.train.config.TrainConfig;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;

import java.util.Locale;

/** Turns the configuration into DL4J objects: the updater with its per-iteration learning-rate schedule. */
public final class Recipe {

    private Recipe() {
    }

    /** The learning-rate schedule for a run of {@code epochs} with {@code stepsPerEpoch} iterations each. */
    public static WarmupSchedule schedule(TrainConfig config, long stepsPerEpoch) {
        ScheduleConfig s = config.schedule();
        double lr = config.optimizer().learningRate(config.data().batchSize());
        long total = Math.max(1, stepsPerEpoch * config.run().epochs());
        return new WarmupSchedule(WarmupSchedule.Shape.valueOf(s.name().toUpperCase(Locale.ROOT)), lr,
                Math.round(s.warmupEpochs() * stepsPerEpoch), s.decayRate(), s.decayEpochs() * stepsPerEpoch, total);
    }

    /** The updater named by {@code optimizer.name}, driven by {@link #schedule}. */
    public static IUpdater updater(TrainConfig config, long stepsPerEpoch) {
        OptimizerConfig o = config.optimizer();
        WarmupSchedule schedule = schedule(config, stepsPerEpoch);
        return switch (o.name()) {
            case "rmsprop" -> new TfRmsProp(schedule, o.rmsDecay(), o.momentum(), o.epsilon());
            case "sgd" -> new Nesterovs(schedule, o.momentum());
            case "adam" -> Adam.builder().learningRateSchedule(schedule).beta1(o.momentum()).beta2(0.999)
                    .epsilon(o.epsilon()).build();
            default -> throw new IllegalArgumentException("optimizer.name must be one of " + OptimizerConfig.NAMES
                    + ", got '" + o.name() + "'");
        };
    }
}
