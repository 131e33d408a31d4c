package io.efficientnet.core.kernels;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.ByteBuffer;

/**
 * Swish {@code x·σ(x)} and its gradient in one pass over memory, vectorised with the JDK's Vector API
 * ({@code jdk.incubator.vector}; a SIMD {@code exp} whose results do not depend on JIT compilation) and split over the
 * CPU's cores. ND4J's native swish calls the scalar C library {@code expf} per element and took a quarter of an
 * EfficientNet-B0 inference step (BENCHMARKS.md); this is about twice as fast. It needs the JVM option
 * {@code --add-modules jdk.incubator.vector} (the CLI, tests and examples set it); without it, or with
 * {@code -D}{@value #DISABLE_PROPERTY}{@code =true}, {@link #available()} is false and callers use ND4J's operations.
 */
public final class SwishKernels {

    /** System property that turns the Vector API kernels off. */
    public static final String DISABLE_PROPERTY = "efficientnet.vectorKernels.disable";

    private static final boolean AVAILABLE = detect();

    private SwishKernels() {
    }

    /** Whether the vectorised kernels are in use in this JVM. */
    public static boolean available() {
        return AVAILABLE;
    }

    /**
     * Replaces {@code x} by {@code swish(x)} if the array is dense float32 memory on the CPU.
     *
     * @return whether it was done (otherwise {@code x} is untouched)
     */
    public static boolean forwardInPlace(INDArray x) {
        if (!AVAILABLE) {
            return false;
        }
        ByteBuffer b = DirectFloats.of(x);
        if (b == null) {
            return false;
        }
        VectorSwish.forward(b, (int) x.length());
        return true;
    }

    /**
     * Replaces {@code x} by {@code ε·swish'(x)} with {@code swish'(x) = σ(x)·(1 + x·(1 − σ(x)))}, finite for every
     * finite {@code x}, if both arrays are dense float32 CPU memory of the same layout.
     *
     * @return whether it was done (otherwise {@code x} is untouched)
     */
    public static boolean backwardInPlace(INDArray x, INDArray epsilon) {
        if (!AVAILABLE || !DirectFloats.sameLayout(x, epsilon)) {
            return false;
        }
        ByteBuffer bx = DirectFloats.of(x);
        ByteBuffer be = bx == null ? null : DirectFloats.of(epsilon);
        if (be == null) {
            return false;
        }
        VectorSwish.backward(bx, be, (int) x.length());
        return true;
    }

    private static boolean detect() {
        if (Boolean.getBoolean(DISABLE_PROPERTY)
                || ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return false;
        }
        try {
            return VectorSwish.selfCheck();
        } catch (LinkageError | RuntimeException e) {
            return false;
        }
    }
}
