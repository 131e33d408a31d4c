package io.efficientnet.cli;

import io.efficientnet.core.inference.ShardedInference;
import io.efficientnet.core.onednn.OneDnnInference;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Locale;
import java.util.function.Consumer;

/** Which code runs inference in the CLI: DL4J's network itself, or the whole network as oneDNN primitives. */
enum InferenceEngine {
    /** oneDNN where it loads and the network lowers, else DL4J (the reason is reported). */
    AUTO,
    /** The DL4J {@code ComputationGraph} ({@code output(false, x)}), optionally in shards. */
    DL4J,
    /** {@code OneDnnInference}: batch norms folded, activations and adds fused, blocked layouts end to end. */
    ONEDNN;

    /** Parses {@code auto}, {@code dl4j} or {@code onednn} (any case). */
    static InferenceEngine parse(String name) {
        return switch (name == null ? "" : name.toLowerCase(Locale.ROOT)) {
            case "auto" -> AUTO;
            case "dl4j" -> DL4J;
            case "onednn" -> ONEDNN;
            default -> throw new IllegalArgumentException("--engine must be auto, dl4j or onednn, got '" + name + "'");
        };
    }

    /** A running inference path: {@link #output} answers a batch; close releases native memory and threads. */
    interface Session extends AutoCloseable {
        /** The network's (first) output for {@code x}. */
        INDArray output(INDArray x);

        /** What runs, e.g. "oneDNN 2.5.2" or "DL4J, 2 shards". */
        String description();

        @Override
        void close();
    }

    /**
     * Opens this engine for {@code net}. {@code shards} (≥ 1; > 1 or {@code singleThread} use DL4J's
     * {@code ShardedInference}) are DL4J options: with {@link #ONEDNN} they are refused, with {@link #AUTO} they
     * choose DL4J.
     *
     * @param notes receives a line when {@link #AUTO} falls back to DL4J, saying why
     */
    Session open(ComputationGraph net, int shards, boolean singleThread, Consumer<String> notes) {
        boolean dl4jOptions = shards > 1 || singleThread;
        if (this == ONEDNN && dl4jOptions) {
            throw new IllegalArgumentException("--engine onednn runs one oneDNN network (its threads come from "
                    + "OMP_NUM_THREADS); --shards and --single-threaded are options of --engine dl4j");
        }
        if (this == ONEDNN || this == AUTO && !dl4jOptions) {
            String why = oneDnnUnusable(net);
            if (why == null) {
                try {
                    // lowers the graph (copying the weights) once, or says which vertex it cannot run
                    OneDnnInference engine = OneDnnInference.of(net);
                    return session(engine::output, "oneDNN " + OneDnnInference.version(), engine);
                } catch (IllegalArgumentException e) {
                    why = e.getMessage();
                }
            }
            if (this == ONEDNN) {
                throw new IllegalArgumentException("--engine onednn: " + why);
            }
            notes.accept("note: inference runs in DL4J (" + why + ")");
        }
        if (dl4jOptions) {
            ShardedInference sharded = ShardedInference.of(net, shards);
            return session(sharded::output, "DL4J, " + shards + (shards == 1 ? " single-threaded shard" : " shards"),
                    sharded);
        }
        return session(x -> net.output(false, x)[0], "DL4J", () -> { });
    }

    /** Why the oneDNN engine cannot run {@code net} at all (before lowering it), or null. */
    private static String oneDnnUnusable(ComputationGraph net) {
        if (OneDnnInference.unavailableReason().isPresent()) {
            return "oneDNN is not available here: " + OneDnnInference.unavailableReason().get();
        }
        if (net.getConfiguration().getDataType() != DataType.FLOAT) {
            return "the network is " + net.getConfiguration().getDataType() + "; the oneDNN engine runs float32";
        }
        return null;
    }

    private static Session session(java.util.function.UnaryOperator<INDArray> forward, String description,
            AutoCloseable resource) {
        return new Session() {
            @Override
            public INDArray output(INDArray x) {
                return forward.apply(x);
            }

            @Override
            public String description() {
                return description;
            }

            @Override
            public void close() {
                try {
                    resource.close();
                } catch (RuntimeException e) {
                    throw e;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        };
    }
}
