package io.efficientnet.cli;

import sun.misc.Signal;
import sun.misc.SignalHandler;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * SIGTERM (a scheduler preempting the job) and SIGINT (Ctrl-C) during training ask the trainer to stop after its
 * current step with a checkpoint, instead of killing the JVM; a second signal stops at once. The command then exits
 * with 128 + the signal number (143 or 130), as a killed process would.
 */
final class StopSignals {

    private static final Map<String, Integer> STATUS = Map.of("TERM", 143, "INT", 130);

    private final Map<Signal, SignalHandler> previous = new HashMap<>();
    private volatile String received;

    private StopSignals() {
    }

    /** Handles SIGTERM and SIGINT by calling {@code stop} with the signal's name (once). */
    static StopSignals install(Consumer<String> stop) {
        StopSignals s = new StopSignals();
        for (String name : STATUS.keySet()) {
            Signal signal = new Signal(name);
            try {
                s.previous.put(signal, Signal.handle(signal, sig -> {
                    if (s.received != null) {
                        Runtime.getRuntime().halt(STATUS.get(name)); // the second signal: now
                    }
                    s.received = name;
                    System.err.println("\nSIG" + name + ": stopping after the current step with a checkpoint (send it "
                            + "again to stop at once)");
                    stop.accept("SIG" + name);
                }));
            } catch (IllegalArgumentException e) {
                // the JVM reserves this signal here (e.g. -Xrs): keep its default behaviour
            }
        }
        return s;
    }

    /** Puts the previous handlers back. */
    void uninstall() {
        previous.forEach(Signal::handle);
    }

    /** The name of the first signal received ({@code TERM}, {@code INT}), or null. */
    String received() {
        return received;
    }

    /** 128 + the received signal's number. */
    int exitStatus() {
        return STATUS.get(received);
    }
}
