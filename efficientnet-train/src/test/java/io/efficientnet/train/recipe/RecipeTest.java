package io.efficientnet.train.recipe;

import io.efficientnet.core.EfficientNet;
import io.efficientnet.train.config.ConfigLoader;
import io.efficientnet.train.config.TrainConfig;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Nesterovs;

import java.io.File;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The paper's optimizer and schedule: hand-computed steps, serialization, and the config mapping. */
class RecipeTest {

    @Test
    void tfRmsPropMatchesAHandComputedTwoStepUpdate() {
        double lr = 0.1;
        double rho = 0.9;
        double mu = 0.9;
        double eps = 1e-3;
        TfRmsProp config = new TfRmsProp(lr, rho, mu, eps);
        INDArray state = Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.DOUBLE, 1, 6);
        GradientUpdater<?> u = config.instantiate(state, true);
        assertEquals(1.0, state.getDouble(0, 0), 0, "ms starts at 1 (TF1)");
        assertEquals(0.0, state.getDouble(0, 3), 0, "momentum starts at 0");
        double[] g1 = {0.5, -2.0, 0.0};
        double[] g2 = {0.1, 1.0, -3.0};
        INDArray step1 = Nd4j.createFromArray(g1.clone()).reshape(1, 3);
        u.applyUpdater(step1, 0, 0);
        INDArray step2 = Nd4j.createFromArray(g2.clone()).reshape(1, 3);
        u.applyUpdater(step2, 1, 0);
        for (int i = 0; i < 3; i++) {
            // by hand: ms1 = 0.9*1 + 0.1*g1^2; mom1 = lr*g1/sqrt(ms1+eps); ms2 = 0.9*ms1 + 0.1*g2^2;
            // mom2 = 0.9*mom1 + lr*g2/sqrt(ms2+eps); the step DL4J subtracts is mom
            double ms1 = rho * 1.0 + (1 - rho) * g1[i] * g1[i];
            double mom1 = lr * g1[i] / Math.sqrt(ms1 + eps);
            double ms2 = rho * ms1 + (1 - rho) * g2[i] * g2[i];
            double mom2 = mu * mom1 + lr * g2[i] / Math.sqrt(ms2 + eps);
            assertEquals(mom1, step1.getDouble(0, i), 1e-12, "step 1, parameter " + i);
            assertEquals(mom2, step2.getDouble(0, i), 1e-12, "step 2, parameter " + i);
            assertEquals(ms2, state.getDouble(0, i), 1e-12, "ms after 2 steps, parameter " + i);
            assertEquals(mom2, state.getDouble(0, 3 + i), 1e-12, "momentum after 2 steps, parameter " + i);
        }
        // Concrete numbers for parameter 1 (g = -2 then 1): ms1 = 1.3, mom1 = -0.1*2/sqrt(1.301)
        assertEquals(-0.17534, step1.getDouble(0, 1), 1e-5);
    }

    @Test
    void warmupThenStaircaseAsInTheReference() {
        // 100 steps per epoch: 5 warm-up epochs, x0.97 every 2.4 epochs (240 steps), counted from step 0
        WarmupSchedule s = new WarmupSchedule(WarmupSchedule.Shape.EXPONENTIAL, 0.016, 500, 0.97, 240, 35_000);
        assertEquals(0.0, s.valueAt(0, 0), 0);
        assertEquals(0.016 * 250 / 500, s.valueAt(250, 2), 1e-15);
        assertEquals(0.016 * Math.pow(0.97, 2), s.valueAt(500, 5), 1e-15, "floor(500/240) = 2 decays");
        assertEquals(0.016 * Math.pow(0.97, 2), s.valueAt(719, 7), 1e-15);
        assertEquals(0.016 * Math.pow(0.97, 3), s.valueAt(720, 7), 1e-15);
        WarmupSchedule cos = new WarmupSchedule(WarmupSchedule.Shape.COSINE, 1.0, 10, 1, 1, 110);
        assertEquals(0.5, cos.valueAt(5, 0), 1e-12);
        assertEquals(0.5, cos.valueAt(55, 0), 1e-12);
        assertEquals(0.0, cos.valueAt(110, 0), 1e-12);
        WarmupSchedule flat = new WarmupSchedule(WarmupSchedule.Shape.CONSTANT, 0.3, 0, 1, 1, 10);
        assertEquals(0.3, flat.valueAt(0, 0), 0);
        assertThrows(IllegalArgumentException.class, () -> new WarmupSchedule(WarmupSchedule.Shape.COSINE, 0, 0, 1,
                1, 1));
    }

    @Test
    void updaterAndScheduleSurviveJsonAndModelSerializer(@TempDir Path tmp) throws Exception {
        WarmupSchedule schedule = new WarmupSchedule(WarmupSchedule.Shape.EXPONENTIAL, 0.01, 3, 0.5, 2, 100);
        ComputationGraph net = EfficientNet.builder().phi(-3).resolution(32).numClasses(3)
                .updater(new TfRmsProp(schedule, 0.9, 0.9, 1e-3)).build().init();
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(net.getConfiguration().toJson());
        assertEquals(net.getConfiguration(), back);
        DataSet ds = new DataSet(Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 4, 3, 32, 32),
                Nd4j.eye(3).getRows(0, 1, 2, 0));
        net.fit(ds);
        net.fit(ds);
        File f = tmp.resolve("net.zip").toFile();
        ModelSerializer.writeModel(net, f, true);
        ComputationGraph restored = ModelSerializer.restoreComputationGraph(f, true);
        assertEquals(net.getUpdater().getStateViewArray(), restored.getUpdater().getStateViewArray());
        Nd4j.getRandom().setSeed(5); // same dropout / drop-path draws for both
        net.fit(ds);
        Nd4j.getRandom().setSeed(5);
        restored.fit(ds);
        assertEquals(0, net.params().sub(restored.params()).amaxNumber().doubleValue(), 1e-6,
                "a restored network continues with the same updater state and schedule position");
    }

    @Test
    void configNamesTheOptimizerAndScalesTheLearningRate() throws Exception {
        TrainConfig paper = ConfigLoader.load(List.of(), List.of("data.batch_size=128"));
        TfRmsProp rms = assertInstanceOf(TfRmsProp.class, Recipe.updater(paper, 1000));
        assertEquals(0.9, rms.getRmsDecay());
        assertEquals(0.9, rms.getMomentum());
        assertEquals(1e-3, rms.getEpsilon());
        WarmupSchedule s = (WarmupSchedule) rms.getLearningRateSchedule();
        assertEquals(0.008, s.getBaseLr(), 1e-15, "0.016 per 256 at batch 128");
        assertEquals(5000, s.getWarmupSteps());
        assertEquals(2400, s.getDecaySteps(), 1e-9);
        assertInstanceOf(Nesterovs.class, Recipe.updater(ConfigLoader.load(List.of(),
                List.of("optimizer.name=sgd")), 10));
        assertInstanceOf(Adam.class, Recipe.updater(ConfigLoader.load(List.of(), List.of("optimizer.name=adam")), 10));
    }
}
