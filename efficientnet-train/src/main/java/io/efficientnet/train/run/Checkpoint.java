package io.efficientnet.train.run;

import io.efficientnet.train.recipe.WeightAverage;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.nio.file.Path;
import java.util.List;

/**
 * A restored checkpoint: the network with its updater state, the weight average (null if the run keeps none), the
 * trainer state, the metrics history and the class names.
 */
public record Checkpoint(Path file, ComputationGraph network, WeightAverage average, TrainerState state,
                         List<EpochMetrics> history, List<String> classes) {
}
