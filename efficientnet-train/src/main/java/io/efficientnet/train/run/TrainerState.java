package io.efficientnet.train.run;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.util.Properties;

/**
 * Where a run is, beyond the network and optimizer state: enough to continue exactly.
 *
 * @param epoch        the epoch in progress, from 0
 * @param batchesDone  batches of that epoch already trained on
 * @param iteration    iterations (optimizer steps) so far
 * @param lossSum      sum of the epoch's minibatch losses so far
 * @param imagesSeen   images trained on in the epoch so far
 * @param bestTop1     best validation top-1 so far (NaN if none)
 * @param skippedFiles unreadable images met so far
 * @param bestIteration iteration of the checkpoint with the best validation top-1 (kept when older ones are
 *                     pruned), or -1
 */
public record TrainerState(int epoch, int batchesDone, long iteration, double lossSum, long imagesSeen,
                           double bestTop1, int skippedFiles, long bestIteration) {

    /** A run that has not started. */
    public static TrainerState start() {
        return new TrainerState(0, 0, 0, 0, 0, Double.NaN, 0, -1);
    }

    /** After one more batch of {@code images} with minibatch loss {@code loss}. */
    public TrainerState afterBatch(double loss, int images) {
        return new TrainerState(epoch, batchesDone + 1, iteration + 1, lossSum + loss, imagesSeen + images, bestTop1,
                skippedFiles, bestIteration);
    }

    /** At the start of the next epoch; {@code improved}: this epoch's validation was the best so far. */
    public TrainerState nextEpoch(double top1, boolean improved, int skipped) {
        return new TrainerState(epoch + 1, 0, iteration, 0, 0, improved ? top1 : bestTop1, skipped,
                improved ? iteration : bestIteration);
    }

    /** Mean minibatch loss of the epoch so far. */
    public double meanLoss() {
        return batchesDone == 0 ? Double.NaN : lossSum / batchesDone;
    }

    /** As a properties text (exact: doubles are written as their bit patterns too). */
    public String toText() {
        Properties p = new Properties();
        p.setProperty("epoch", Integer.toString(epoch));
        p.setProperty("batches_done", Integer.toString(batchesDone));
        p.setProperty("iteration", Long.toString(iteration));
        p.setProperty("loss_sum_bits", Long.toString(Double.doubleToRawLongBits(lossSum)));
        p.setProperty("images_seen", Long.toString(imagesSeen));
        p.setProperty("best_top1_bits", Long.toString(Double.doubleToRawLongBits(bestTop1)));
        p.setProperty("skipped_files", Integer.toString(skippedFiles));
        p.setProperty("best_iteration", Long.toString(bestIteration));
        StringWriter w = new StringWriter();
        try {
            p.store(w, "efficientnet trainer state");
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return w.toString();
    }

    /** Parses {@link #toText()}; {@code source} names the file in errors. */
    public static TrainerState parse(String text, String source) throws IOException {
        Properties p = new Properties();
        p.load(new StringReader(text));
        try {
            return new TrainerState(Integer.parseInt(p.getProperty("epoch")),
                    Integer.parseInt(p.getProperty("batches_done")), Long.parseLong(p.getProperty("iteration")),
                    Double.longBitsToDouble(Long.parseLong(p.getProperty("loss_sum_bits"))),
                    Long.parseLong(p.getProperty("images_seen")),
                    Double.longBitsToDouble(Long.parseLong(p.getProperty("best_top1_bits"))),
                    Integer.parseInt(p.getProperty("skipped_files")),
                    Long.parseLong(p.getProperty("best_iteration", "-1")));
        } catch (RuntimeException e) {
            throw new IOException(source + ": trainer state is incomplete or malformed: " + e.getMessage(), e);
        }
    }
}
