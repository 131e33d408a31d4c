package io.efficientnet.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code efficientnet} command-line tool: one subcommand per verb. */
@Command(name = "efficientnet", mixinStandardHelpOptions = true, version = "efficientnet 0.1.0",
        description = "EfficientNet for Deeplearning4j: inspect, convert, train, evaluate, benchmark and run EfficientNet "
                + "models.",
        subcommands = {SummaryCommand.class, ConvertCommand.class, PredictCommand.class, TrainCommand.class,
                EvaluateCommand.class, BenchmarkCommand.class, ExportCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Environment variable: when set (to anything but 0), errors also print their stack trace. */
    public static final String DEBUG_VARIABLE = "EFFICIENTNET_DEBUG";

    /**
     * Builds the command line with the project's error handling: bad values, missing or unwritable files (disk full,
     * permission denied, read-only file system) exit 2 with a one-line message naming what and why; anything else
     * exits 1 with a one-line message. The stack trace only with {@value #DEBUG_VARIABLE}=1.
     */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            Throwable user = userError(ex);
            java.io.PrintWriter err = commandLine.getErr();
            if (user != null) {
                err.println("error: " + user.getMessage());
            } else {
                err.println("error: " + ex.getClass().getSimpleName() + ": " + ex.getMessage() + " (set "
                        + DEBUG_VARIABLE + "=1 for the stack trace)");
            }
            String debug = System.getenv(DEBUG_VARIABLE);
            if (debug != null && !debug.isBlank() && !debug.equals("0")) {
                ex.printStackTrace(err);
            }
            err.flush();
            return user != null ? 2 : 1;
        });
        return cl;
    }

    /** The first user-facing error in {@code ex}'s cause chain (bad value, state or file), or null. */
    static Throwable userError(Throwable ex) {
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (t instanceof IllegalArgumentException || t instanceof java.io.IOException
                    || t instanceof IllegalStateException) {
                return t;
            }
            if (t instanceof java.io.UncheckedIOException u && u.getCause() != null) {
                return u.getCause();
            }
        }
        return null;
    }

    /** Runs the tool. */
    public static void main(String[] args) {
        io.efficientnet.core.OneDnnHelpers.enableUnlessConfigured(); // before any model is built or restored
        System.exit(commandLine().execute(args));
    }
}
