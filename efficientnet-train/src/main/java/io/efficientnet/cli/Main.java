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

    /** Builds the command line with the project's error handling: bad values exit 2 with a one-line message. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (ex instanceof IllegalArgumentException || ex instanceof java.io.IOException
                    || ex instanceof IllegalStateException) {
                commandLine.getErr().println("error: " + ex.getMessage());
                return 2;
            }
            throw ex;
        });
        return cl;
    }

    /** Runs the tool. */
    public static void main(String[] args) {
        io.efficientnet.core.OneDnnHelpers.enableUnlessConfigured(); // before any model is built or restored
        System.exit(commandLine().execute(args));
    }
}
