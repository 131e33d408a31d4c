package io.efficientnet.core.engine;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What computes a network's forward (and, in training, backward) pass.
 *
 * <p>{@link #AUTO} is the default everywhere: the oneDNN engine wherever it can run the network, DL4J's own layers
 * where it cannot (another backend such as CUDA, a data type other than float32, a layer kind the engine does not
 * cover), with the reason reported once. The other two force one side, and fail with the reason when it cannot run.
 */
public enum Engine {
    /** oneDNN where it can run the network, else DL4J. */
    AUTO,
    /** The whole network as oneDNN primitives in blocked layouts (CPU, float32). */
    ONEDNN,
    /** DL4J's {@code ComputationGraph} itself ({@code output}, {@code fit}): any backend and data type. */
    DL4J;

    /** The name used in options and configuration files: {@code auto}, {@code onednn} or {@code dl4j}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses an engine name (any case).
     *
     * @param what names the setting in the error message, e.g. {@code --engine} or {@code run.engine}
     */
    public static Engine parse(String name, String what) {
        for (Engine e : values()) {
            if (e.id().equalsIgnoreCase(name == null ? "" : name.trim())) {
                return e;
            }
        }
        throw new IllegalArgumentException(what + " must be one of " + Arrays.stream(values()).map(Engine::id)
                .collect(Collectors.joining(", ")) + ", got '" + name + "'");
    }
}
