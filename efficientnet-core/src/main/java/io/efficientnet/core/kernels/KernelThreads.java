package io.efficientnet.core.kernels;

/**
 * How many threads this project's Vector API kernels use when called from the current thread. By default a kernel
 * splits its work over the calling thread and the common fork-join pool (as many threads as ND4J's operations may
 * use); a thread that is itself one of several workers running side by side (one network replica per thread) can
 * ask for its kernels to stay on it, so that the workers do not compete for the same cores.
 */
public final class KernelThreads {

    private static final ThreadLocal<Boolean> CALLER_ONLY = ThreadLocal.withInitial(() -> Boolean.FALSE);

    private KernelThreads() {
    }

    /** Runs the kernels called from the current thread on this thread alone ({@code true}) or split as usual. */
    public static void callerOnly(boolean callerOnly) {
        CALLER_ONLY.set(callerOnly);
    }

    /** Whether the kernels called from the current thread run on it alone. */
    public static boolean callerOnly() {
        return CALLER_ONLY.get();
    }
}
