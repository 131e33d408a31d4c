package io.efficientnet.train.run;

import io.efficientnet.core.onednn.OneDnnTraining;
import io.efficientnet.train.data.ImageBatches;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * Steps through {@link OneDnnTraining} ({@code run.train_engine: onednn}): each batch's forward and backward pass as
 * oneDNN primitives in blocked layouts, the gradients written into the network, the network's updater taking the step.
 */
final class OneDnnStepRunner implements StepRunner {

    private OneDnnTraining training;
    private ComputationGraph trained;

    @Override
    public double step(ComputationGraph net, ImageBatches.Batch batch) {
        if (training == null || trained != net) {
            close();
            training = OneDnnTraining.of(net);
            trained = net;
        }
        return training.fit(batch.data());
    }

    @Override
    public void close() {
        if (training != null) {
            training.close();
            training = null;
        }
    }
}
