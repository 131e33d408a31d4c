package io.efficientnet.train.config;

import java.util.Set;

/**
 * The learning-rate schedule ({@code schedule:} in the YAML), stepped every iteration.
 *
 * @param name         {@code exponential} (×decayRate every decayEpochs, staircase: the paper's), {@code cosine} (to 0
 *                     at the last iteration) or {@code constant}
 * @param warmupEpochs linear warm-up from 0 over this many epochs
 * @param decayRate    factor per decay period ({@code exponential})
 * @param decayEpochs  decay period in epochs ({@code exponential})
 */
public record ScheduleConfig(String name, double warmupEpochs, double decayRate, double decayEpochs) {

    /** Names accepted for {@code schedule.name}. */
    public static final Set<String> NAMES = Set.of("exponential", "cosine", "constant");

    public ScheduleConfig {
        ConfigChecks.oneOf("schedule.name", name, NAMES);
        ConfigChecks.range("schedule.warmup_epochs", warmupEpochs, 0, Double.MAX_VALUE, true);
        ConfigChecks.range("schedule.decay_rate", decayRate, 1e-12, 1, true);
        ConfigChecks.positive("schedule.decay_epochs", decayEpochs);
    }
}
