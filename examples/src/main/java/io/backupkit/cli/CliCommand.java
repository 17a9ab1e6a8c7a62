package io.backupkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** Base of the commands: output options, the terminal, JSON and progress helpers. */
abstract class CliCommand implements Callable<Integer> {
    final Terminal terminal;

    @Mixin
    OutputOptions output;

    @Spec
    CommandSpec spec;

    CliCommand(Terminal terminal) {
        this.terminal = terminal;
    }

    @Override
    public final Integer call() {
        return run();
    }

    /** Runs the command and returns its exit code; failures are thrown and mapped by {@link ExitCodes}. */
    abstract int run();

    boolean json() {
        return output.json;
    }

    PrintWriter out() {
        return terminal.out;
    }

    /**
     * Hands over the command's one JSON document. It is printed after the command has finished,
     * including the closing of what it opened: if that fails, stdout carries one error document
     * (with this one as its {@code result}) instead of two documents.
     */
    void printJson(JsonNode node) {
        terminal.json(node);
    }

    ProgressRenderer progress(String label) {
        return ProgressRenderer.forTerminal(terminal, output.mode(terminal), label);
    }

    CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }
}
