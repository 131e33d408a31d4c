package io.efficientnet.examples;

import java.util.function.Consumer;

/**
 * Stands in for the Jupyter kernel's {@code display(Object)} when {@link NotebookTest} runs the notebook in JShell:
 * the test defines {@code void display(Object o)} in its JShell as a call of {@link #show}. JShell runs the snippets
 * in this JVM ("local" execution), so the object itself (a chart's {@code BufferedImage}) reaches the test. Public
 * because JShell snippets live in a package of their own.
 */
public final class NotebookDisplay {

    private static volatile Consumer<Object> receiver = o -> { };

    private NotebookDisplay() {
    }

    /** What a notebook cell displays. */
    public static void show(Object o) {
        receiver.accept(o);
    }

    /** Where {@link #show} hands the objects from now on. */
    static void sendTo(Consumer<Object> r) {
        receiver = r;
    }
}
