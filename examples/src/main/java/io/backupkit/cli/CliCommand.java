package io.backupkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

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

    /**
     * Runs in the foreground until SIGTERM or SIGINT, then runs {@code stop} and returns, so a receiver stops in order
     * and the command exits 0; a shutdown hook still runs {@code stop} on any other way out of the JVM.
     */
    void runUntilTerminated(Runnable stop, String hookName) {
        CountDownLatch stopped = new CountDownLatch(1);
        List<String> signals = ScheduleCommand.Signals.onTermination(stopped);
        Thread hook = new Thread(stop, hookName);
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        terminal.err.println("stopping: storing what was received" + (signals.size() == 2 ? "" : " (signal handling unavailable)"));
        stop.run();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // already shutting down
        }
    }

    CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }
}
