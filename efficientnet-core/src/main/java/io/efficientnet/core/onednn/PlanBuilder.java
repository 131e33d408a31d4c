package io.efficientnet.core.onednn;

import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.primitive_desc_base;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.memory.pointers.PagedPointer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO;

/**
 * What inference and training plans build with: the tensor table (the network input first), the activation layout
 * and kernel choice, memory descriptors, activation buffers taken from and handed back to a {@link BufferPool}, reorder
 * and primitive steps, and the record of the implementation oneDNN chose for each primitive. Every native object is
 * kept in one {@link NativeScope}, closed with the builder.
 */
final class PlanBuilder implements AutoCloseable {

    static final memory.data_type F32 = memory.data_type.f32;

    final engine eng;
    final stream strm;
    final NativeScope natives = new NativeScope();
    private final ActivationLayout layout;
    private final BufferPool pool = new BufferPool();
    private final Map<String, Tensor> tensors = new HashMap<>();
    private final String inputName;
    private final memory inputMem;
    /** How a primitive appears in {@link #implementations}, after its step's label. */
    private final Function<primitive, String> describe;
    private final List<String> implementations = new ArrayList<>();
    /** Buffers of memories from {@link #newMemory}, until {@link #free}. */
    private final Map<memory, BufferPool.Buffer> buffers = new IdentityHashMap<>();
    /** Memories from {@link #newMemory} since {@link #trackAllocations} (null when not tracking). */
    private List<memory> tracked;

    /**
     * A builder whose tensor table holds the network input {@code input} of {@code inputShape} (plain {@code nchw},
     * data bound at every run by {@link #bindInput}).
     */
    PlanBuilder(String input, long[] inputShape, ActivationLayout layout, engine eng, stream strm,
                Function<primitive, String> describe) {
        this.eng = eng;
        this.strm = strm;
        this.layout = layout;
        this.describe = describe;
        this.inputName = input;
        memory.desc inDesc = desc(inputShape, memory.format_tag.nchw);
        this.inputMem = natives.keep(new memory(inDesc, eng, (Pointer) null));
        tensors.put(input, new Tensor(inputShape.clone(), inDesc, inputMem, null));
    }

    /** Points the input tensor at {@code address} (float32 {@code nchw} of the plan's input shape). */
    void bindInput(long address) {
        inputMem.set_data_handle(new PagedPointer(address));
    }

    /** Whether {@code name} is the network input. */
    boolean isInput(String name) {
        return name.equals(inputName);
    }

    /** Whether {@code t} is the network input (kept in its plain format: the first convolution reads it as it is). */
    boolean isInput(Tensor t) {
        return t.mem == inputMem;
    }

    // --- tensors

    Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new IllegalStateException("tensor '" + name + "' is read before it is written");
        }
        return t;
    }

    /** Tensor {@code name}, which must be {@code [N, channels, H, W]} ({@code channels} < 0: any). */
    Tensor require4d(String name, long channels) {
        Tensor t = tensor(name);
        if (t.dims.length != 4 || t.collapsed || channels >= 0 && t.dims[1] != channels) {
            throw new IllegalArgumentException("tensor '" + name + "' is " + Arrays.toString(t.dims)
                    + (t.collapsed ? " (collapsed to [N, C])" : "") + ", expected [N, "
                    + (channels >= 0 ? channels : "C") + ", H, W]");
        }
        return t;
    }

    void put(String name, Tensor t) {
        tensors.put(name, t);
    }

    /** Every tensor written so far. */
    Iterable<Tensor> tensors() {
        return tensors.values();
    }

    // --- buffers

    /** A new tensor of format {@code desc} owning a pool buffer. */
    Tensor allocate(long[] dims, memory.desc desc) {
        BufferPool.Buffer b = pool.take(desc.get_size());
        memory.desc owned = copy(desc);
        return new Tensor(dims.clone(), owned, natives.keep(new memory(owned, eng, b.address)), b);
    }

    /** A tensor over {@code src}'s memory that takes over its buffer (an op writing in place). */
    Tensor handOver(Tensor src) {
        Tensor t = new Tensor(src.dims, src.desc, src.mem, src.buffer);
        src.buffer = null;
        return t;
    }

    /** Hands {@code t}'s buffer back to the pool, for tensors allocated later. */
    void release(Tensor t) {
        if (t != null && t.buffer != null) {
            pool.give(t.buffer);
            t.buffer = null;
        }
    }

    /** A memory of format {@code desc} in a pool buffer (handed back by {@link #free}). */
    memory newMemory(memory.desc desc) {
        BufferPool.Buffer b = pool.take(desc.get_size());
        memory m = natives.keep(new memory(copy(desc), eng, b.address));
        buffers.put(m, b);
        if (tracked != null) {
            tracked.add(m);
        }
        return m;
    }

    /** Hands a {@link #newMemory}'s buffer back to the pool; returns that buffer (null if it had none). */
    BufferPool.Buffer free(memory m) {
        BufferPool.Buffer b = buffers.remove(m);
        if (b != null) {
            pool.give(b);
        }
        return b;
    }

    /** Starts recording the memories {@link #newMemory} makes. */
    void trackAllocations() {
        tracked = new ArrayList<>();
    }

    /** The memories made since {@link #trackAllocations}; stops recording. */
    List<memory> trackedAllocations() {
        List<memory> t = tracked;
        tracked = null;
        return t;
    }

    /** Fills every pool buffer with NaN ({@link BufferPool#poison}). */
    void poisonBuffers() {
        pool.poison();
    }

    /** Bytes of activation (and gradient) buffers. */
    long allocatedBytes() {
        return pool.allocatedBytes();
    }

    // --- formats

    memory.desc desc(long[] dims, memory.format_tag tag) {
        return natives.keep(new memory.desc(dims, F32, tag));
    }

    /** A descriptor that lets the primitive choose the format. */
    memory.desc any(long[] dims) {
        return desc(dims, memory.format_tag.any);
    }

    /** A plain vector of {@code length} floats (a bias). */
    memory.desc vector(long length) {
        return desc(new long[] {length}, memory.format_tag.x);
    }

    /** A descriptor with explicit {@code strides} (a DL4J array's layout). */
    memory.desc strided(long[] dims, long[] strides) {
        return natives.keep(new memory.desc(dims, F32, strides));
    }

    /** A copy of {@code desc} that lives as long as the plan. */
    memory.desc copy(memory.desc desc) {
        return natives.keep(new memory.desc(desc.data()));
    }

    /** A memory's data as a native-order byte buffer of the memory's size, for this project's Java kernels. */
    static ByteBuffer bytes(memory m) {
        return new BytePointer(m.get_data_handle()).capacity(m.get_desc().get_size()).asByteBuffer()
                .order(ByteOrder.nativeOrder());
    }

    /** {@link KernelChoice#choose} in the plan's activation layout. */
    <P extends primitive_desc_base> P choose(String op, Function<memory.format_tag, P> create) {
        return KernelChoice.choose(op, layout, create);
    }

    /**
     * {@code t} itself when it has format {@code desc}, else a new tensor that a reorder (added to {@code steps},
     * labelled {@code label}) copies it into.
     */
    Tensor inFormat(Tensor t, memory.desc desc, String label, List<Runnable> steps) {
        if (t.desc.equals(desc)) {
            return t;
        }
        Tensor r = allocate(t.dims, desc);
        r.collapsed = t.collapsed;
        steps.add(reorder(label, t.mem, r.mem));
        return r;
    }

    /** {@code m} (format {@code from}) in format {@code to}: itself, or a new memory a reorder in {@code steps} fills. */
    memory convert(memory m, memory.desc from, memory.desc to, String label, List<Runnable> steps) {
        if (from.equals(to)) {
            return m;
        }
        memory r = newMemory(to);
        steps.add(reorder(label, m, r));
        return r;
    }

    // --- steps

    /** A step copying {@code from} into {@code to}, converting the format. */
    Runnable reorder(String label, memory from, memory to) {
        reorder.primitive_desc pd = natives.keep(new reorder.primitive_desc(from, to));
        return step(label, natives.keep(new reorder(pd)), natives.args(DNNL_ARG_FROM, from, DNNL_ARG_TO, to));
    }

    /** A step executing {@code p}; recorded in {@link #implementations} under {@code label}. */
    Runnable step(String label, primitive p, IntMemoryMap args) {
        implementations.add(label + ": " + describe.apply(p));
        return () -> p.execute(strm, args);
    }

    /** Each primitive's step label and implementation, in the order they were built. */
    List<String> implementations() {
        return List.copyOf(implementations);
    }

    @Override
    public void close() {
        natives.close();
        pool.close();
    }
}
