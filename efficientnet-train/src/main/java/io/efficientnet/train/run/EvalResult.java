package io.efficientnet.train.run;

import org.nd4j.evaluation.classification.Evaluation;

import java.util.List;

/**
 * Accuracy and loss of a network on labelled images.
 *
 * @param top1       top-1 accuracy (0..1)
 * @param top5       top-5 accuracy (0..1; top-K with K = classes when there are fewer than 5)
 * @param loss       mean cross-entropy
 * @param count      images evaluated
 * @param evaluation DL4J's evaluation (confusion matrix, per-class statistics)
 * @param classes    class names
 */
public record EvalResult(double top1, double top5, double loss, long count, Evaluation evaluation,
                         List<String> classes) {

    /** Accuracy of class {@code c} (recall), NaN if it has no images. */
    public double classAccuracy(int c) {
        int total = 0;
        for (int p = 0; p < classes.size(); p++) {
            total += evaluation.getConfusion().getCount(c, p);
        }
        return total == 0 ? Double.NaN : (double) evaluation.getConfusion().getCount(c, c) / total;
    }

    /** The confusion matrix as CSV: rows are true classes, columns predicted classes. */
    public String confusionCsv() {
        StringBuilder sb = new StringBuilder("true\\predicted");
        for (String c : classes) {
            sb.append(',').append(c);
        }
        sb.append('\n');
        for (int a = 0; a < classes.size(); a++) {
            sb.append(classes.get(a));
            for (int p = 0; p < classes.size(); p++) {
                sb.append(',').append(evaluation.getConfusion().getCount(a, p));
            }
            sb.append('\n');
        }
        return sb.toString();
    }
}
