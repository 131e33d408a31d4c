package io.efficientnet.core.onednn;

import org.bytedeco.dnnl.memory;

/**
 * A tensor while a plan is built: its dimensions, its oneDNN memory and that memory's format, the pool buffer it
 * owns, and (training) its gradient.
 */
final class Tensor {

    final long[] dims;
    final memory.desc desc;
    final memory mem;
    /** The pool buffer behind {@link #mem} while this tensor owns it; null for the input or once handed over. */
    BufferPool.Buffer buffer;
    /** A pooled {@code [N, C, 1, 1]} reported as {@code [N, C]}. */
    boolean collapsed;
    /** Training: the gradient, null until the first contribution reaches it. */
    memory diff;
    /** Training: the gradient's format. */
    memory.desc diffDesc;

    Tensor(long[] dims, memory.desc desc, memory mem, BufferPool.Buffer buffer) {
        this.dims = dims;
        this.desc = desc;
        this.mem = mem;
        this.buffer = buffer;
    }
}
