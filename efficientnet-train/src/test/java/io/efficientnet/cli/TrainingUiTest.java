package io.efficientnet.cli;

import io.efficientnet.core.EfficientNet;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.ui.api.UIServer;
import org.deeplearning4j.ui.model.stats.StatsListener;
import org.junit.jupiter.api.Test;

import java.net.HttpURLConnection;
import java.net.URL;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** {@code train --ui}: the DL4J training UI answers on the port it reports and the network reports to it. */
class TrainingUiTest {

    @Test
    void servesTheTrainingUiAndAttachesAStatsListener() throws Exception {
        List<String> log = new ArrayList<>();
        String portProperty = System.getProperty("org.deeplearning4j.ui.port");
        try {
            var hook = TrainingUi.attach(0, log::add); // 0: the system picks a free port, the log names it
            assertEquals(1, log.size(), log.toString());
            assertTrue(log.get(0).matches("training UI: http://localhost:\\d+/train"), log.get(0));
            int port = Integer.parseInt(log.get(0).replaceAll("\\D", ""));
            assertTrue(port > 0, "the bound port, not 0: " + log.get(0));
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
            if (portProperty == null) {
                System.clearProperty("org.deeplearning4j.ui.port");
            } else {
                System.setProperty("org.deeplearning4j.ui.port", portProperty);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> TrainingUi.attach(70000, log::add));
    }
}
