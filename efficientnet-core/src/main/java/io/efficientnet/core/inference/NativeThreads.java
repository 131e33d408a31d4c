package io.efficientnet.core.inference;

import java.util.Optional;

/**
 * Caps the OpenMP threads that native operations (oneDNN convolutions, libnd4j) started from the <em>current</em>
 * thread may use, leaving every other thread at the process-wide {@code OMP_NUM_THREADS}. OpenMP keeps this limit per
 * calling thread ({@code omp_set_num_threads}), so side-by-side workers can each run their native work on one core
 * instead of all of them forking a team over all cores.
 *
 * <p>The call goes through the JDK's foreign-function API: it needs the JVM options
 * {@code --add-modules jdk.incubator.foreign --enable-native-access=ALL-UNNAMED} (the CLI, tests and examples set
 * them) and an OpenMP build of ND4J's native library (the default CPU builds). Where any of that is missing,
 * {@link #limitCurrentThread} does nothing and returns false; {@link #unavailableReason()} says why.
 */
public final class NativeThreads {

    private static final String UNAVAILABLE = detect();

    private NativeThreads() {
    }

    /**
     * Limits native operations started from the current thread to {@code threads} OpenMP threads.
     *
     * @return whether the limit was set (false where the foreign-function API or OpenMP is not available)
     * @throws IllegalArgumentException if {@code threads < 1}
     */
    public static boolean limitCurrentThread(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (UNAVAILABLE != null) {
            return false;
        }
        OpenMpLink.setNumThreads(threads);
        return true;
    }

    /** The OpenMP thread limit of the current thread, if it can be read. */
    public static Optional<Integer> currentThreadLimit() {
        return UNAVAILABLE == null ? Optional.of(OpenMpLink.maxThreads()) : Optional.empty();
    }

    /** Why {@link #limitCurrentThread} cannot work in this JVM, or empty where it can. */
    public static Optional<String> unavailableReason() {
        return Optional.ofNullable(UNAVAILABLE);
    }

    private static String detect() {
        if (ModuleLayer.boot().findModule("jdk.incubator.foreign").isEmpty()) {
            return "the JVM was started without --add-modules jdk.incubator.foreign";
        }
        try {
            return OpenMpLink.link();
        } catch (IllegalCallerException e) {
            return "the JVM was started without --enable-native-access=ALL-UNNAMED";
        } catch (LinkageError | RuntimeException e) {
            return "OpenMP could not be called: " + e;
        }
    }
}
