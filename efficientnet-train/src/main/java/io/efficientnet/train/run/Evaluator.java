package io.efficientnet.train.run;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.List;
import java.util.function.IntConsumer;

/** Runs a classifier over labelled batches: top-1, top-5, cross-entropy and the confusion matrix. */
public final class Evaluator {

    private Evaluator() {
    }

    /**
     * Evaluates {@code net} (inference mode) on every batch of {@code batches} from its current position.
     *
     * @param progress called with the images done after each batch (may be null)
     */
    public static EvalResult evaluate(ComputationGraph net, DataSetIterator batches, List<String> classes,
            IntConsumer progress) {
        Evaluation eval = new Evaluation(classes, Math.min(5, classes.size()));
        double lossSum = 0;
        long count = 0;
        while (batches.hasNext()) {
            DataSet ds = batches.next();
            INDArray out = net.output(false, ds.getFeatures())[0];
            eval.eval(ds.getLabels(), out);
            lossSum += -Transforms.log(out.add(1e-12), false).muli(ds.getLabels()).sumNumber().doubleValue();
            count += ds.numExamples();
            if (progress != null) {
                progress.accept((int) count);
            }
        }
        if (count == 0) {
            throw new IllegalStateException("no images could be evaluated");
        }
        return new EvalResult(eval.accuracy(), eval.topNAccuracy(), lossSum / count, count, eval, classes);
    }
}
