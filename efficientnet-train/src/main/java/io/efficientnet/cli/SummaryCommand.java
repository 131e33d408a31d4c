package io.efficientnet.cli;

import io.efficientnet.core.model.ModelSummary;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code efficientnet summary}: per-stage blocks, channels, output sizes, parameters and MACs. */
@Command(name = "summary", mixinStandardHelpOptions = true,
        description = "Print the per-stage structure, parameter count and multiply-accumulates of a variant.")
public final class SummaryCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec commandSpec;

    @Mixin
    ModelOptions model;

    @Option(names = "--json", description = "print one JSON object instead of a table")
    boolean json;

    @Override
    public Integer call() throws Exception {
        ModelSummary summary = model.builder().build().summary();
        PrintWriter out = commandSpec.commandLine().getOut();
        if (json) {
            out.println(new ObjectMapper().writeValueAsString(summary.toMap()));
        } else {
            out.print(summary.toTable());
        }
        out.flush();
        return 0;
    }
}
