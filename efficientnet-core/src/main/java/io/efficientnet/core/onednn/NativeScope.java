package io.efficientnet.core.onednn;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.memory;
import org.bytedeco.javacpp.Pointer;

import java.util.ArrayList;
import java.util.List;

/**
 * The JavaCPP objects a plan creates (descriptors, primitives, memories, argument maps), kept reachable while the plan
 * lives (JavaCPP frees an object's native side when it is collected) and closed together, newest first.
 */
final class NativeScope implements AutoCloseable {

    private final List<Pointer> objects = new ArrayList<>();

    /** Keeps {@code p} until {@link #close()}; returns it. */
    <P extends Pointer> P keep(P p) {
        objects.add(p);
        return p;
    }

    /** A kept argument map from alternating {@code DNNL_ARG_*} keys and memories. */
    IntMemoryMap args(Object... keysAndMemories) {
        IntMemoryMap m = keep(new IntMemoryMap());
        for (int i = 0; i < keysAndMemories.length; i += 2) {
            m.put((Integer) keysAndMemories[i], (memory) keysAndMemories[i + 1]);
        }
        return m;
    }

    @Override
    public void close() {
        for (int i = objects.size() - 1; i >= 0; i--) {
            objects.get(i).close();
        }
        objects.clear();
    }
}
