package io.efficientnet.cli;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.ui.api.UIServer;
import org.deeplearning4j.ui.model.stats.StatsListener;
import org.deeplearning4j.ui.model.storage.InMemoryStatsStorage;

import java.util.function.Consumer;

/** {@code train --ui}: DL4J's training UI (Vert.x server) fed by a {@link StatsListener}. */
final class TrainingUi {

    private TrainingUi() {
    }

    /**
     * Starts the UI on {@code port} and returns the hook that attaches a network to it.
     *
     * @param log receives the UI's address
     */
    static Consumer<ComputationGraph> attach(int port, Consumer<String> log) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--ui-port must be in 0..65535, got " + port);
        }
        System.setProperty("org.deeplearning4j.ui.port", Integer.toString(port));
        UIServer server = UIServer.getInstance();
        InMemoryStatsStorage storage = new InMemoryStatsStorage();
        server.attach(storage);
        log.accept("training UI: http://localhost:" + server.getPort() + "/train");
        return net -> net.addListeners(new StatsListener(storage));
    }
}
