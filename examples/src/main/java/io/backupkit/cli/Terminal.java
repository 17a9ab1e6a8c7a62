package io.backupkit.cli;

import java.io.Console;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Where a command writes and what it knows about its surroundings: stdout for results (and the one
 * JSON document of {@code --json}), stderr for progress, prompts and errors, the environment for
 * secrets, and whether a person is at a terminal.
 */
final class Terminal {
    final PrintWriter out;
    final PrintWriter err;
    final Map<String, String> env;
    /** True when stdin and stdout are a terminal ({@link System#console()} exists). */
    final boolean interactive;
    private final Console console;

    Terminal(PrintWriter out, PrintWriter err, Map<String, String> env, boolean interactive, Console console) {
        this.out = out;
        this.err = err;
        this.env = Map.copyOf(env);
        this.interactive = interactive;
        this.console = console;
    }

    static Terminal system() {
        Console console = System.console();
        return new Terminal(writer(System.out), writer(System.err), System.getenv(), console != null, console);
    }

    /** A terminal writing to the given streams, never interactive (tests, embedding). */
    static Terminal of(OutputStream out, OutputStream err, Map<String, String> env) {
        return new Terminal(writer(out), writer(err), env, false, null);
    }

    private static PrintWriter writer(OutputStream stream) {
        return new PrintWriter(new OutputStreamWriter(stream, StandardCharsets.UTF_8), true);
    }

    String env(String name) {
        String v = env.get(name);
        return v == null || v.isEmpty() ? null : v;
    }

    /** Asks a question on the terminal; null when there is no terminal to ask. */
    String ask(String prompt) {
        if (console == null) {
            return null;
        }
        err.flush();
        return console.readLine("%s", prompt);
    }

    /** Terminal width for progress bars: $COLUMNS, else 80. */
    int columns() {
        try {
            String c = env("COLUMNS");
            int n = c == null ? 80 : Integer.parseInt(c.strip());
            return Math.max(40, Math.min(n, 200));
        } catch (NumberFormatException e) {
            return 80;
        }
    }
}
