package io.efficientnet.bench;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where the time of a training (or inference) step goes, per layer type.
 *
 * <p>DL4J 1.0.0-M2.1's {@link ComputationGraph} logs a TRACE event before and after each vertex's forward pass
 * ({@code ffToLayerActivationsInWS}, used by {@code fit}; {@code ffToLayerActivationsDetached}, used by
 * {@code feedForward}) and backward pass ({@code calcBackpropGradients}). While profiling, that logger is set to
 * TRACE with an appender that records {@link System#nanoTime()} at each event (nothing is printed or formatted), so
 * the ordinary {@code fit()} code path, with the network's own workspace configuration, is what gets timed. The time
 * between "about" and "completed" includes the vertex's workspace scope and the hand-over of its output to its
 * consumers. Step time not inside any vertex (loss score, gradient bookkeeping, the SGD update, workspace and
 * listener overhead) is reported separately. ND4J's CPU ops run synchronously, so wall time per call is the op time.
 */
public final class LayerProfiler {

    /** How the profile is measured, for the report. */
    public static final String METHOD = "wall time between DL4J's own TRACE log points before/after each vertex's "
            + "forward and backward pass in ComputationGraph (ordinary fit()/feedForward() code path, workspaces as "
            + "configured), recorded with System.nanoTime by a logback appender; per-step means over the profiled "
            + "steps, which run after the timed ones; 'outside vertices' = profiled step time minus the vertices' "
            + "sum (loss score, SGD update, framework overhead)";

    private static final String LOGGER = ComputationGraph.class.getName();

    private LayerProfiler() {
    }

    /** Mean time per step of one vertex. */
    public record VertexTime(String vertex, LayerCategory category, double forwardMs, double backwardMs) {
        public double totalMs() {
            return forwardMs + backwardMs;
        }
    }

    /** Mean time per step of one layer type. */
    public record CategoryTime(LayerCategory category, int vertices, double forwardMs, double backwardMs,
                               double percentOfStep) {
    }

    /**
     * A profile.
     *
     * @param pass              {@code fit} (forward + backward + update) or {@code feedForward} (inference)
     * @param steps             profiled steps
     * @param stepMsMedian      median wall time of a profiled step
     * @param stepMsMean        mean wall time of a profiled step (the per-type times add up to this)
     * @param outsideVerticesMs mean step time not inside any vertex
     * @param categories        per layer type, in {@link LayerCategory} order (types absent from the model omitted)
     * @param slowest           the vertices with the largest forward + backward time, slowest first
     */
    public record Profile(String pass, int steps, double stepMsMedian, double stepMsMean, double outsideVerticesMs,
                         List<CategoryTime> categories, List<VertexTime> slowest) {

        /** Field map for JSON. */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("method", METHOD);
            m.put("pass", pass);
            m.put("steps", steps);
            m.put("stepMsMedian", stepMsMedian);
            m.put("stepMsMean", stepMsMean);
            m.put("outsideVerticesMs", outsideVerticesMs);
            List<Map<String, Object>> cats = new ArrayList<>();
            for (CategoryTime c : categories) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("category", c.category().label());
                e.put("vertices", c.vertices());
                e.put("forwardMs", c.forwardMs());
                e.put("backwardMs", c.backwardMs());
                e.put("percentOfStep", c.percentOfStep());
                cats.add(e);
            }
            m.put("categories", cats);
            List<Map<String, Object>> top = new ArrayList<>();
            for (VertexTime v : slowest) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("vertex", v.vertex());
                e.put("category", v.category().label());
                e.put("forwardMs", v.forwardMs());
                e.put("backwardMs", v.backwardMs());
                top.add(e);
            }
            m.put("slowestVertices", top);
            return m;
        }

        /** A table for people. */
        public String toText() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(Locale.ROOT, "Per-layer-type profile of %s, %d steps (step: median %.1f ms, "
                    + "mean %.1f ms)%n", pass, steps, stepMsMedian, stepMsMean));
            sb.append(String.format(Locale.ROOT, "  %-36s %8s %12s %12s %8s%n", "layer type", "vertices",
                    "forward ms", "backward ms", "% step"));
            for (CategoryTime c : categories) {
                sb.append(String.format(Locale.ROOT, "  %-36s %8d %12.2f %12.2f %7.1f%%%n", c.category().label(),
                        c.vertices(), c.forwardMs(), c.backwardMs(), c.percentOfStep()));
            }
            sb.append(String.format(Locale.ROOT, "  %-36s %8s %25.2f %7.1f%%%n", "outside vertices (loss, update, "
                    + "overhead)", "", outsideVerticesMs, stepMsMean > 0 ? 100 * outsideVerticesMs / stepMsMean : 0));
            sb.append("  slowest vertices (forward + backward ms):");
            for (VertexTime v : slowest) {
                sb.append(String.format(Locale.ROOT, " %s %.2f;", v.vertex(), v.totalMs()));
            }
            sb.append(System.lineSeparator());
            sb.append("  method: ").append(METHOD).append(System.lineSeparator());
            return sb.toString();
        }
    }

    /**
     * Profiles {@code steps} steps: {@code fit(x, labels)} when {@code labels} is not null, else
     * {@code feedForward(x, false)} (inference; like {@code output()} but keeping every activation).
     *
     * @param inputType the network input type, used to tell squeeze-excitation 1x1 convolutions (on 1x1 maps)
     *                  from the others
     * @throws IllegalStateException if slf4j is not bound to logback (the profiler attaches a logback appender)
     */
    public static Profile profile(ComputationGraph net, INDArray x, INDArray[] labels, int steps, InputType inputType) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            throw new IllegalStateException("profiling reads DL4J's TRACE log points through logback, but slf4j is "
                    + "bound to " + LoggerFactory.getILoggerFactory().getClass().getName());
        }
        ch.qos.logback.classic.Logger logger = context.getLogger(LOGGER);
        Level level = logger.getLevel();
        boolean additive = logger.isAdditive();
        Recorder recorder = new Recorder();
        recorder.setContext(context);
        recorder.start();
        long[] stepNs = new long[steps];
        logger.addAppender(recorder);
        logger.setAdditive(false);
        logger.setLevel(Level.TRACE);
        try {
            for (int i = 0; i < steps; i++) {
                long t0 = System.nanoTime();
                if (labels != null) {
                    net.fit(new INDArray[] {x}, labels);
                } else {
                    net.feedForward(x, false);
                }
                stepNs[i] = System.nanoTime() - t0;
            }
        } finally {
            logger.setLevel(level);
            logger.setAdditive(additive);
            logger.detachAppender(recorder);
            recorder.stop();
        }
        if (recorder.times.isEmpty()) {
            throw new IllegalStateException("no DL4J trace events were recorded; this DL4J version may not log them");
        }
        return summarise(net, recorder.times, stepNs, labels != null ? "fit" : "feedForward", inputType);
    }

    private static Profile summarise(ComputationGraph net, Map<String, long[]> times, long[] stepNs, String pass,
            InputType inputType) {
        int steps = stepNs.length;
        ComputationGraphConfiguration conf = net.getConfiguration().clone();
        Map<String, InputType> types = conf.getLayerActivationTypes(false, false, inputType);
        Map<String, GraphVertex> vertices = conf.getVertices();
        List<VertexTime> all = new ArrayList<>();
        for (Map.Entry<String, long[]> e : times.entrySet()) {
            GraphVertex v = vertices.get(e.getKey());
            if (v == null) {
                continue; // network inputs
            }
            List<String> in = conf.getVertexInputs().get(e.getKey());
            InputType inType = in == null || in.isEmpty() ? null
                    : conf.getNetworkInputs().contains(in.get(0)) ? inputType : types.get(in.get(0));
            all.add(new VertexTime(e.getKey(), LayerCategory.of(v, inType), e.getValue()[0] / 1e6 / steps,
                    e.getValue()[1] / 1e6 / steps));
        }
        double stepMean = Arrays.stream(stepNs).average().orElse(0) / 1e6;
        long[] sorted = stepNs.clone();
        Arrays.sort(sorted);
        double stepMedian = (steps % 2 == 1 ? sorted[steps / 2] : (sorted[steps / 2 - 1] + sorted[steps / 2]) / 2.0)
                / 1e6;
        Map<LayerCategory, double[]> byCat = new EnumMap<>(LayerCategory.class);
        Map<LayerCategory, Integer> counts = new HashMap<>();
        double inside = 0;
        for (VertexTime v : all) {
            double[] t = byCat.computeIfAbsent(v.category(), k -> new double[2]);
            t[0] += v.forwardMs();
            t[1] += v.backwardMs();
            counts.merge(v.category(), 1, Integer::sum);
            inside += v.totalMs();
        }
        List<CategoryTime> categories = new ArrayList<>();
        for (Map.Entry<LayerCategory, double[]> e : byCat.entrySet()) {
            double[] t = e.getValue();
            categories.add(new CategoryTime(e.getKey(), counts.get(e.getKey()), t[0], t[1],
                    stepMean > 0 ? 100 * (t[0] + t[1]) / stepMean : 0));
        }
        all.sort(Comparator.comparingDouble(VertexTime::totalMs).reversed());
        return new Profile(pass, steps, stepMedian, stepMean, stepMean - inside, categories,
                List.copyOf(all.subList(0, Math.min(10, all.size()))));
    }

    /** Sums nanoseconds between DL4J's "About …"/"Completed …" trace events, per vertex [forward, backward]. */
    private static final class Recorder extends AppenderBase<ILoggingEvent> {
        final Map<String, long[]> times = new HashMap<>();
        private String open;
        private boolean openBackward;
        private long openedAt;

        @Override
        protected void append(ILoggingEvent event) {
            long now = System.nanoTime();
            Object[] args = event.getArgumentArray();
            String message = event.getMessage();
            if (args == null || args.length < 2 || message == null) {
                return;
            }
            String vertex = String.valueOf(args[1]);
            if (message.startsWith("About forward pass") || message.startsWith("About backprop")) {
                open = vertex;
                openBackward = message.startsWith("About backprop");
                openedAt = System.nanoTime();
            } else if ((message.startsWith("Completed forward pass") || message.startsWith("Completed backprop"))
                    && vertex.equals(open)) {
                times.computeIfAbsent(vertex, k -> new long[2])[openBackward ? 1 : 0] += now - openedAt;
                open = null;
            }
        }
    }
}
