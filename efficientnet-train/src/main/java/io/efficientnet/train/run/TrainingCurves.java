package io.efficientnet.train.run;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/** {@code training-curves.png}: loss (train, validation) and validation accuracy (top-1, top-5) per epoch. */
public final class TrainingCurves {

    private static final int WIDTH = 640;
    private static final int HEIGHT = 420;

    private TrainingCurves() {
    }

    /** Draws the curves of {@code rows} and writes them to {@code file} atomically as PNG. */
    public static void write(Path file, List<EpochMetrics> rows) throws IOException {
        XYChart loss = chart("Loss", "loss");
        add(loss, "train", rows, EpochMetrics::trainLoss);
        add(loss, "validation", rows, EpochMetrics::valLoss);
        XYChart acc = chart("Validation accuracy", "accuracy");
        add(acc, "top-1", rows, EpochMetrics::valTop1);
        add(acc, "top-5", rows, EpochMetrics::valTop5);
        BufferedImage out = new BufferedImage(2 * WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        g.drawImage(BitmapEncoder.getBufferedImage(loss), 0, 0, null);
        g.drawImage(BitmapEncoder.getBufferedImage(acc), WIDTH, 0, null);
        g.dispose();
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(out, "png", png);
        AtomicFiles.write(file, png.toByteArray());
    }

    private static XYChart chart(String title, String yTitle) {
        XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("epoch")
                .yAxisTitle(yTitle).build();
        c.getStyler().setChartBackgroundColor(Color.WHITE);
        c.getStyler().setMarkerSize(5);
        return c;
    }

    private static void add(XYChart chart, String name, List<EpochMetrics> rows, ToDoubleFunction<EpochMetrics> f) {
        List<Double> x = new ArrayList<>();
        List<Double> y = new ArrayList<>();
        for (EpochMetrics r : rows) {
            double v = f.applyAsDouble(r);
            if (Double.isFinite(v)) {
                x.add((double) r.epoch());
                y.add(v);
            }
        }
        if (!x.isEmpty()) {
            chart.addSeries(name, x, y).setMarker(SeriesMarkers.CIRCLE);
        }
    }
}
