package io.efficientnet.train.run;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.List;
import java.util.function.IntConsumer;
import java.util.function.UnaryOperator;

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
        return evaluate(x -> net.output(false, x)[0], batches, classes, progress);
    }

    /**
     * Evaluates a classifier given as its inference function (e.g. {@code ShardedInference::output}) on every batch of
     * {@code batches} from its current position.
     *
     * @param forward  class probabilities {@code [N, classes]} for a batch of features
     * @param progress called with the images done after each batch (may be null)
     */
    public static EvalResult evaluate(UnaryOperator<INDArray> forward, DataSetIterator batches, List<String> classes,
            IntConsumer progress) {
        Evaluation eval = new Evaluation(classes, Math.min(5, classes.size()));
        double lossSum = 0;
        long count = 0;
        while (batches.hasNext()) {
            DataSet ds = batches.next();
            INDArray out = forward.apply(ds.getFeatures());
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
