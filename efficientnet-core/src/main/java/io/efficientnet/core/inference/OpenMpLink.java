package io.efficientnet.core.inference;

import jdk.incubator.foreign.CLinker;
import jdk.incubator.foreign.FunctionDescriptor;
import jdk.incubator.foreign.SymbolLookup;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodType;

/**
 * The OpenMP calls behind {@link NativeThreads}, looked up among the native libraries ND4J loaded; only loaded when
 * {@code jdk.incubator.foreign} is present.
 */
final class OpenMpLink {

    private static MethodHandle setNumThreads;
    private static MethodHandle getMaxThreads;

    private OpenMpLink() {
    }

    /** Finds the OpenMP functions; returns null on success, else why not. */
    static synchronized String link() {
        Nd4j.getBackend(); // makes sure ND4J's native libraries (and the OpenMP runtime they use) are loaded
        SymbolLookup lookup = SymbolLookup.loaderLookup();
        var set = lookup.lookup("omp_set_num_threads");
        var get = lookup.lookup("omp_get_max_threads");
        if (set.isEmpty() || get.isEmpty()) {
            return "no OpenMP runtime among ND4J's native libraries (omp_set_num_threads not found)";
        }
        CLinker linker = CLinker.getInstance();
        setNumThreads = linker.downcallHandle(set.get(), MethodType.methodType(void.class, int.class),
                FunctionDescriptor.ofVoid(CLinker.C_INT));
        getMaxThreads = linker.downcallHandle(get.get(), MethodType.methodType(int.class),
                FunctionDescriptor.of(CLinker.C_INT));
        return null;
    }

    static void setNumThreads(int threads) {
        try {
            setNumThreads.invokeExact(threads);
        } catch (Throwable e) {
            throw new IllegalStateException("omp_set_num_threads(" + threads + ") failed", e);
        }
    }

    static int maxThreads() {
        try {
            return (int) getMaxThreads.invokeExact();
        } catch (Throwable e) {
            throw new IllegalStateException("omp_get_max_threads() failed", e);
        }
    }
}
