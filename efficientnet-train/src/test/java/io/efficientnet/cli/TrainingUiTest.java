package io.efficientnet.cli;

import io.efficientnet.core.EfficientNet;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.ui.api.UIServer;
import org.deeplearning4j.ui.model.stats.StatsListener;
import org.junit.jupiter.api.Test;

import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URL;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** {@code train --ui}: the DL4J training UI answers on the chosen port and the network reports to it. */
class TrainingUiTest {

    @Test
    void servesTheTrainingUiAndAttachesAStatsListener() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        List<String> log = new ArrayList<>();
        try {
            var hook = TrainingUi.attach(port, log::add);
            assertEquals(List.of("training UI: http://localhost:" + port + "/train"), log);
            HttpURLConnection c = (HttpURLConnection) new URL("http://localhost:" + port + "/train").openConnection();
            c.setConnectTimeout(10_000);
            c.setReadTimeout(10_000);
            assertEquals(200, c.getResponseCode());
            ComputationGraph net = EfficientNet.builder().widthMultiplier(0.25).depthMultiplier(0.25).resolution(32)
                    .numClasses(2).build().init();
            hook.accept(net);
            assertTrue(net.getListeners().stream().anyMatch(l -> l instanceof StatsListener), "listener attached");
        } finally {
            UIServer.stopInstance();
        }
        assertThrows(IllegalArgumentException.class, () -> TrainingUi.attach(70000, log::add));
    }
}
