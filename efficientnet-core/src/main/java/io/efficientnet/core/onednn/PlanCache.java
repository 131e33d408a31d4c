package io.efficientnet.core.onednn;

import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.stream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The oneDNN CPU engine and stream of one inference or training engine, and its plans for the most recently used
 * input shapes (each plan holds primitives and buffers for one shape; the least recently used one is closed when a
 * new shape would exceed the capacity). Not thread-safe: callers serialise.
 */
final class PlanCache<P extends PlanCache.Plan> implements AutoCloseable {

    /** A plan for one input shape. */
    interface Plan extends AutoCloseable {
        @Override
        void close();
    }

    /** Builds the plan for an input shape on the cache's engine and stream. */
    interface Builder<P> {
        P build(long[] shape, engine eng, stream strm);
    }

    private final int capacity;
    private final Builder<P> builder;
    private final engine eng = new engine(engine.kind.cpu, 0);
    private final stream strm = new stream(eng);
    private final Map<String, P> plans = new LinkedHashMap<>(4, 0.75f, true);

    PlanCache(int capacity, Builder<P> builder) {
        this.capacity = capacity;
        this.builder = builder;
    }

    /** The plan for {@code shape}, built on first use. */
    P get(long[] shape) {
        String key = Arrays.toString(shape);
        P plan = plans.get(key);
        if (plan == null) {
            plan = builder.build(shape, eng, strm);
            plans.put(key, plan);
            if (plans.size() > capacity) {
                plans.remove(plans.keySet().iterator().next()).close();
            }
        }
        return plan;
    }

    /** {@code a} as a dense float32 c-order array that is not a view (itself when it already is one). */
    static INDArray denseFloat(INDArray a) {
        INDArray f = a.dataType() == DataType.FLOAT ? a : a.castTo(DataType.FLOAT);
        return f.isView() || f.ordering() != 'c' || !Shape.hasDefaultStridesForShape(f) ? f.dup('c') : f;
    }

    @Override
    public void close() {
        plans.values().forEach(Plan::close);
        plans.clear();
        strm.close();
        eng.close();
    }
}
