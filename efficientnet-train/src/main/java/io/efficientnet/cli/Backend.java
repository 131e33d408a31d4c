package io.efficientnet.cli;

import org.nd4j.linalg.factory.Nd4j;

import java.util.Locale;

/** The ND4J backend this build runs on, and the check behind {@code --backend}. */
final class Backend {

    private Backend() {
    }

    /** {@code cuda} or {@code cpu}, from the backend ND4J loaded. */
    static String current() {
        return Nd4j.getBackend().getClass().getName().toLowerCase(Locale.ROOT).contains("cublas") ? "cuda" : "cpu";
    }

    /** Fails with instructions when {@code wanted} (cpu, cuda, or null for any) is not the loaded backend. */
    static void require(String wanted) {
        if (wanted == null) {
            return;
        }
        String w = wanted.toLowerCase(Locale.ROOT);
        if (!w.equals("cpu") && !w.equals("cuda")) {
            throw new IllegalArgumentException("--backend must be cpu or cuda, got '" + wanted + "'");
        }
        String have = current();
        if (!have.equals(w)) {
            throw new IllegalStateException("this build runs on the " + have + " backend, not " + w + ": "
                    + (w.equals("cuda") ? "run bin/efficientnet with --backend cuda (it builds with the Maven 'cuda' "
                    + "profile), or build with mvn -Pcuda" : "rebuild without the 'cuda' profile"));
        }
    }
}
