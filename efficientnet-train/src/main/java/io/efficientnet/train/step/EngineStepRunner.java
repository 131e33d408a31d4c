package io.efficientnet.train.step;

import io.efficientnet.core.engine.Engine;
import io.efficientnet.core.engine.Engines;
import io.efficientnet.core.engine.TrainingSession;
import io.efficientnet.train.data.ImageBatches;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.util.function.Consumer;

/**
 * Steps on one device through a {@link TrainingSession}: opened for the network it is first given (again if the trainer
 * hands it another one, e.g. after a restore), closed with the runner.
 */
final class EngineStepRunner implements StepRunner {

    private final Engine engine;
    private final Consumer<String> notes;
    private TrainingSession session;
    private ComputationGraph bound;

    EngineStepRunner(Engine engine, Consumer<String> notes) {
        this.engine = engine;
        this.notes = notes;
    }

    @Override
    public double step(ComputationGraph net, ImageBatches.Batch batch) {
        if (session == null || bound != net) {
            close();
            session = Engines.training(net, engine, notes);
            bound = net;
            notes.accept("training steps run on " + session.description());
        }
        return session.fit(batch.data());
    }

    @Override
    public void close() {
        if (session != null) {
            try {
                session.close();
            } finally {
                session = null;
            }
        }
    }
}
