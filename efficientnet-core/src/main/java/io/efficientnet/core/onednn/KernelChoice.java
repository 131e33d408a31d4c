package io.efficientnet.core.onednn;

import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.primitive_desc_base;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Function;

/**
 * Chooses, for one op of a plan, a primitive descriptor whose kernel is not one of oneDNN's reference loops (which
 * run 10–100× slower than its jit kernels): the op is created in the plan's {@link ActivationLayout}, and again in
 * other formats when oneDNN offers only a reference kernel for the first.
 */
final class KernelChoice {

    private static final Logger log = LoggerFactory.getLogger(KernelChoice.class);

    private KernelChoice() {
    }

    /** The implementation oneDNN chose, e.g. {@code jit:avx2} or {@code ref:any}. */
    static String impl(primitive_desc_base pd) {
        return pd.impl_info_str().getString();
    }

    /** The implementation of a primitive, as {@link #impl(primitive_desc_base)}. */
    static String impl(primitive p) {
        try (primitive_desc_base pd = new primitive_desc_base(p.get_dnnl_primitive_desc(), true)) {
            return impl(pd);
        }
    }

    /** Whether {@code impl} names one of oneDNN's reference (non-jit, element-by-element) kernels. */
    static boolean isReference(String impl) {
        return impl.startsWith("ref");
    }

    /**
     * The descriptor {@code create} makes for the plan's layout or, where that would run a reference kernel, for the
     * blocked layout, then for plain {@code nchw} (dense, no channel padding: small maps whose channel count is not a
     * multiple of the block can have only reference element-wise kernels in a padded blocked format). {@code create}
     * gets the format tag its 4-D activations should have.
     */
    static <P extends primitive_desc_base> P choose(String op, ActivationLayout layout,
                                                   Function<memory.format_tag, P> create) {
        P pd = create.apply(layout.tag());
        for (memory.format_tag other : new memory.format_tag[] {ActivationLayout.blockedTag(), memory.format_tag.nchw}) {
            String impl = impl(pd);
            if (!isReference(impl)) {
                return pd;
            }
            P next = create.apply(other);
            log.debug("{}: {} is a reference kernel; {} in {} instead", op, impl, impl(next), other);
            pd = next;
        }
        return pd;
    }
}
