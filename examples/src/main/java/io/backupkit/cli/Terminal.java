package io.backupkit.cli;

import com.fasterxml.jackson.databind.JsonNode;

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
    /** True when a person is at a terminal: stdin and stdout are a terminal (see {@link #isTerminal(Console)}). */
    final boolean interactive;
    private final Console console;
    /** The one JSON document of {@code --json}, printed by {@link BackupkitCli} once the command is over. */
    private JsonNode json;

    Terminal(PrintWriter out, PrintWriter err, Map<String, String> env, boolean interactive, Console console) {
        this.out = out;
        this.err = err;
        this.env = Map.copyOf(env);
        this.interactive = interactive;
        this.console = console;
    }

    static Terminal system() {
        Console console = System.console();
        boolean terminal = isTerminal(console);
        // without a terminal there is no one to ask: the console (JDK 22+ has one also when redirected)
        // would print prompts into redirected output and read answers from a pipe
        return new Terminal(writer(System.out), writer(System.err), System.getenv(), terminal, terminal ? console : null);
    }

    /**
     * Whether {@code console} is a real terminal. Up to JDK 21 {@link System#console()} is null unless
     * stdin and stdout are a terminal; from JDK 22 it returns a console also when they are redirected,
     * and {@code Console.isTerminal()} (JDK 22+, called reflectively since we compile for 17) tells.
     */
    static boolean isTerminal(Console console) {
        if (console == null) {
            return false;
        }
        java.lang.reflect.Method isTerminal;
        try {
            isTerminal = Console.class.getMethod("isTerminal");
        } catch (NoSuchMethodException e) {
            return true; // JDK 17-21: a console exists only for a terminal
        }
        try {
            return Boolean.TRUE.equals(isTerminal.invoke(console));
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false; // cannot tell: do not prompt
        }
    }

    /** Sets the command's JSON document; a command has exactly one. */
    void json(JsonNode document) {
        if (json != null) {
            throw new IllegalStateException("a command produced two JSON documents");
        }
        json = document;
    }

    /** The command's JSON document (null if it produced none), cleared. */
    JsonNode takeJson() {
        JsonNode d = json;
        json = null;
        return d;
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

    /** Reads a secret from the terminal without echoing it; null when there is no terminal. */
    char[] askSecret(String prompt) {
        if (console == null) {
            return null;
        }
        err.flush();
        return console.readPassword("%s", prompt);
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
