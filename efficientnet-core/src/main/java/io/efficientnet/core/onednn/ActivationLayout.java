package io.efficientnet.core.onednn;

import org.bytedeco.dnnl.global.dnnl;
import org.bytedeco.dnnl.memory;

import java.util.Map;

/**
 * The memory format a plan keeps 4-D activations in. Every primitive is created for an explicit format rather than
 * {@code format_tag::any}: with {@code any}, oneDNN's AVX-512 convolutions pick channels-last and some ops that
 * follow them (the squeeze-and-excitation multiply, a per-example channel broadcast) have only a reference kernel
 * there. A plan creates each op in its layout and, where oneDNN would run that op with a reference kernel, in
 * {@link #BLOCKED} instead ({@link KernelChoice}).
 */
enum ActivationLayout {

    /**
     * Channels in blocks of the vector width of the instruction set oneDNN runs: {@code nChw16c} with AVX-512,
     * {@code nChw8c} with AVX2, AVX and SSE4.1. Every op of the network has a jit kernel in this format.
     */
    BLOCKED,

    /** Channels last ({@code acdb}, NHWC): what oneDNN's AVX-512 convolutions pick by themselves. */
    CHANNELS_LAST;

    /** The format tag for 4-D activations in this layout on this CPU. */
    memory.format_tag tag() {
        return this == CHANNELS_LAST ? memory.format_tag.nhwc : blockedTag();
    }

    /** {@code nChw16c} where oneDNN runs AVX-512 code, else {@code nChw8c}. */
    static memory.format_tag blockedTag() {
        return avx512() ? memory.format_tag.nChw16c : memory.format_tag.nChw8c;
    }

    /** Whether oneDNN runs AVX-512 (core) code on this CPU under the current {@code ONEDNN_MAX_CPU_ISA}. */
    static boolean avx512() {
        int isa = dnnl.dnnl_get_effective_cpu_isa();
        return (isa & dnnl.dnnl_cpu_isa_avx512_core) == dnnl.dnnl_cpu_isa_avx512_core;
    }

    /** oneDNN's instruction-set values and their names. */
    private static final Map<Integer, String> ISA_NAMES = Map.of(
            dnnl.dnnl_cpu_isa_avx512_core_amx, "avx512_core_amx",
            dnnl.dnnl_cpu_isa_avx512_core_bf16, "avx512_core_bf16",
            dnnl.dnnl_cpu_isa_avx512_core_vnni, "avx512_core_vnni",
            dnnl.dnnl_cpu_isa_avx512_core, "avx512_core",
            dnnl.dnnl_cpu_isa_avx2_vnni, "avx2_vnni",
            dnnl.dnnl_cpu_isa_avx2, "avx2",
            dnnl.dnnl_cpu_isa_avx, "avx",
            dnnl.dnnl_cpu_isa_sse41, "sse41");

    /** The instruction set oneDNN runs here, e.g. {@code avx512_core_vnni} or {@code avx2}. */
    static String isaName() {
        int isa = dnnl.dnnl_get_effective_cpu_isa();
        return ISA_NAMES.getOrDefault(isa, "isa 0x" + Integer.toHexString(isa));
    }
}
