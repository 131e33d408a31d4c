package io.efficientnet.train.run;

import java.util.Locale;

/**
 * One row of {@code metrics.csv}. Accuracies are fractions in 0..1; validation values are NaN (an empty cell) when
 * the run has no validation images.
 *
 * @param epoch        epoch number, from 1
 * @param trainLoss    mean training loss of the epoch (label-smoothed cross-entropy plus weight decay)
 * @param valLoss      validation cross-entropy (EMA weights, no smoothing)
 * @param valTop1      validation top-1 accuracy
 * @param valTop5      validation top-5 accuracy
 * @param lr           learning rate at the end of the epoch
 * @param imagesPerSec training throughput of the epoch
 */
public record EpochMetrics(int epoch, double trainLoss, double valLoss, double valTop1, double valTop5, double lr,
                           double imagesPerSec) {

    /** The CSV header. */
    public static final String HEADER = "epoch,train_loss,val_loss,val_top1,val_top5,lr,images_per_sec";

    /** This row as CSV. */
    public String toCsv() {
        return epoch + "," + num(trainLoss) + "," + num(valLoss) + "," + num(valTop1) + "," + num(valTop5) + ","
                + num(lr) + "," + num(imagesPerSec);
    }

    /** Parses a row written by {@link #toCsv()}. */
    public static EpochMetrics parse(String line) {
        String[] f = line.split(",", -1);
        if (f.length != 7) {
            throw new IllegalArgumentException("metrics row must have 7 fields (" + HEADER + "), got '" + line + "'");
        }
        return new EpochMetrics(Integer.parseInt(f[0]), val(f[1]), val(f[2]), val(f[3]), val(f[4]), val(f[5]),
                val(f[6]));
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "" : Double.toString(v); // full precision: checkpoints carry the history exactly
    }

    private static double val(String s) {
        return s.isEmpty() ? Double.NaN : Double.parseDouble(s);
    }

    /** The console line of this epoch, e.g. {@code epoch 3/15: train loss 1.2345, val loss ..., top-1 ...}. */
    public String summary(int epochs) {
        return String.format(Locale.ROOT, "epoch %d/%d: train loss %.4f, val loss %s, top-1 %s, top-5 %s, lr %.3g, "
                        + "%.1f images/s", epoch, epochs, trainLoss, orDash(valLoss, "%.4f", 1),
                orDash(valTop1, "%.2f%%", 100), orDash(valTop5, "%.2f%%", 100), lr, imagesPerSec);
    }

    private static String orDash(double v, String format, double scale) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, format, scale * v);
    }
}
