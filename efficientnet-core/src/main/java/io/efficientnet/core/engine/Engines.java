package io.efficientnet.core.engine;

import io.efficientnet.core.onednn.GraphLowering;
import io.efficientnet.core.onednn.OneDnnInference;
import io.efficientnet.core.onednn.OneDnnTraining;
import io.efficientnet.core.training.DirectFit;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Optional;
import java.util.function.Consumer;

/**
 * Opens a network on an {@link Engine}: the one place where the engine is chosen, used by the command line, the
 * trainer and the examples.
 *
 * <pre>{@code
 * try (InferenceSession s = Engines.inference(net, Engine.AUTO, System.err::println)) {
 *     INDArray probabilities = s.output(images);
 * }
 * }</pre>
 */
public final class Engines {

    private Engines() {
    }

    /**
     * Opens {@code net} for inference on the engine {@link #choose} picks.
     *
     * @throws IllegalArgumentException with {@link Engine#ONEDNN} when oneDNN cannot run the network (the reason)
     */
    public static InferenceSession inference(ComputationGraph net, Engine engine, Consumer<String> notes) {
        if (choose(net, engine, false, notes) == Engine.ONEDNN) {
            OneDnnInference oneDnn = OneDnnInference.of(net);
            return new Inference(oneDnn::output, oneDnnDescription(), oneDnn);
        }
        return new Inference(x -> net.output(false, x)[0], "DL4J", () -> { });
    }

    /**
     * Opens {@code net} (initialised, with its updater) for training on the engine {@link #choose} picks; a DL4J step
     * is {@code fit}'s.
     *
     * @throws IllegalArgumentException with {@link Engine#ONEDNN} when oneDNN cannot train the network (the reason)
     */
    public static TrainingSession training(ComputationGraph net, Engine engine, Consumer<String> notes) {
        if (choose(net, engine, true, notes) == Engine.ONEDNN) {
            OneDnnTraining oneDnn = OneDnnTraining.of(net);
            return new Training(oneDnn::fit, oneDnnDescription(), oneDnn);
        }
        DirectFit fit = DirectFit.of(net);
        return new Training(fit::fit, "DL4J", () -> { });
    }

    /**
     * The engine that runs {@code net}: {@link Engine#ONEDNN} when requested or automatic and oneDNN can run it
     * ({@link #oneDnnUnusable}, then every layer lowers), else {@link Engine#DL4J}; with {@link Engine#AUTO}
     * {@code notes} receives one line saying why DL4J runs.
     *
     * @param training whether the network is to be trained (more layer kinds are refused than for inference)
     * @throws IllegalArgumentException with {@link Engine#ONEDNN} when oneDNN cannot run the network (the reason)
     */
    public static Engine choose(ComputationGraph net, Engine requested, boolean training, Consumer<String> notes) {
        if (requested == Engine.DL4J) {
            return Engine.DL4J;
        }
        String why = oneDnnUnusable(net).orElse(null);
        if (why == null) {
            try {
                if (training) {
                    GraphLowering.lowerForTraining(net);
                } else {
                    GraphLowering.lower(net);
                }
                return Engine.ONEDNN;
            } catch (IllegalArgumentException e) {
                why = e.getMessage();
            }
        }
        String task = training ? "training" : "inference";
        if (requested == Engine.ONEDNN) {
            throw new IllegalArgumentException("the oneDNN engine cannot run this network's " + task + ": " + why);
        }
        notes.accept("note: " + task + " runs in DL4J (" + why + ")");
        return Engine.DL4J;
    }

    /**
     * Why the oneDNN engine cannot run {@code net} at all (library, backend, data type), before looking at its
     * layers; empty when it may.
     */
    public static Optional<String> oneDnnUnusable(ComputationGraph net) {
        Optional<String> library = OneDnnInference.unavailableReason();
        if (library.isPresent()) {
            return Optional.of("oneDNN is not available here: " + library.get());
        }
        if (!Nd4j.getEnvironment().isCPU()) {
            return Optional.of("ND4J runs on " + Nd4j.getBackend().getClass().getSimpleName()
                    + "; the oneDNN engine runs on the CPU backend");
        }
        DataType type = net.getConfiguration().getDataType();
        if (type != DataType.FLOAT) {
            return Optional.of("the network is " + type + "; the oneDNN engine runs float32");
        }
        return Optional.empty();
    }

    private static String oneDnnDescription() {
        return "oneDNN " + OneDnnInference.version() + " (" + OneDnnInference.isa() + ")";
    }

    private record Inference(java.util.function.UnaryOperator<INDArray> forward, String description,
                             AutoCloseable resource) implements InferenceSession {
        @Override
        public INDArray output(INDArray input) {
            return forward.apply(input);
        }

        @Override
        public void close() {
            closeQuietly(resource);
        }
    }

    private record Training(java.util.function.ToDoubleFunction<DataSet> step, String description,
                            AutoCloseable resource) implements TrainingSession {
        @Override
        public double fit(DataSet batch) {
            return step.applyAsDouble(batch);
        }

        @Override
        public void close() {
            closeQuietly(resource);
        }
    }

    private static void closeQuietly(AutoCloseable resource) {
        try {
            resource.close();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("closing the engine failed", e);
        }
    }
}
