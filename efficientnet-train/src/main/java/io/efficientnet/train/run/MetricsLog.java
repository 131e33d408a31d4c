package io.efficientnet.train.run;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The per-epoch history of a run and its {@code metrics.csv}. */
public final class MetricsLog {

    private MetricsLog() {
    }

    /** The CSV text (header and one row per epoch). */
    public static String toCsv(List<EpochMetrics> rows) {
        StringBuilder sb = new StringBuilder(EpochMetrics.HEADER).append('\n');
        for (EpochMetrics r : rows) {
            sb.append(r.toCsv()).append('\n');
        }
        return sb.toString();
    }

    /** Parses CSV text written by {@link #toCsv}. */
    public static List<EpochMetrics> parse(String csv) {
        List<EpochMetrics> rows = new ArrayList<>();
        String[] lines = csv.split("\n");
        if (lines.length == 0 || !lines[0].trim().equals(EpochMetrics.HEADER)) {
            throw new IllegalArgumentException("metrics must start with the header " + EpochMetrics.HEADER);
        }
        for (int i = 1; i < lines.length; i++) {
            if (!lines[i].isBlank()) {
                rows.add(EpochMetrics.parse(lines[i].trim()));
            }
        }
        return rows;
    }

    /** Writes {@code metrics.csv} atomically. */
    public static void write(Path file, List<EpochMetrics> rows) throws IOException {
        AtomicFiles.writeString(file, toCsv(rows));
    }
}
