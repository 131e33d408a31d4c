package org.nd4j.nativeblas;

/**
 * Compatibility shim for a DL4J 1.0.0-M2.1 bug, not part of this project's API. DL4J's oneDNN layer helpers
 * ({@code org.deeplearning4j.nn.layers.mkldnn.BaseMKLDNNHelper#mklDnnEnabled}) look up
 * {@code org.nd4j.nativeblas.Nd4jCpu$Environment#isUseMKLDNN()} by reflection, a class that no longer exists in ND4J
 * M2.1 (it moved to {@code org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu}, without that method), so on CPU the
 * helpers never run even when enabled. This class answers the lookup with ND4J's own switch,
 * {@code Environment.helpersAllowed()}. See {@link io.efficientnet.core.OneDnnHelpers}.
 */
public final class Nd4jCpu {

    private Nd4jCpu() {
    }

    /** What DL4J's reflection expects: {@code getInstance().isUseMKLDNN()}. */
    public static final class Environment {

        private static final Environment INSTANCE = new Environment();

        private Environment() {
        }

        /** The single instance. */
        public static Environment getInstance() {
            return INSTANCE;
        }

        /** Whether ND4J allows its native (oneDNN) platform helpers. */
        public boolean isUseMKLDNN() {
            return org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu.Environment.getInstance().helpersAllowed();
        }
    }
}
