package io.backupkit.spi;

import io.backupkit.ConfigurationException;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads the string options that {@link DatabaseEngine#source(String, Map)} and
 * {@link DatabaseEngine#target(String, Map)} receive (the CLI's {@code -o KEY=VALUE}), so that every
 * engine answers a misspelt key or a bad value in the same words.
 *
 * <pre>{@code
 * EngineOptions.requireKnown("SQLite", "source", options, Set.of("busyTimeout", "countRows"));
 * boolean count = EngineOptions.flag("countRows", options.get("countRows"));
 * }</pre>
 */
public final class EngineOptions {
    private EngineOptions() {
    }

    /**
     * Refuses an option the engine does not know, naming the ones it does.
     *
     * @param engine the engine as users call it ("MySQL", "SQLite")
     * @param role   "source" or "target"
     */
    public static void requireKnown(String engine, String role, Map<String, String> options, Set<String> known) {
        for (String k : options.keySet()) {
            if (!known.contains(k)) {
                throw new ConfigurationException("unknown " + engine + " " + role + " option '" + k + "'; known: " + new TreeSet<>(known));
            }
        }
    }

    /** {@code true}, {@code false} (any case), or no value / empty for true (the option given alone). */
    public static boolean flag(String key, String value) {
        if (value == null || value.isEmpty() || value.equalsIgnoreCase("true")) {
            return true;
        }
        if (value.equalsIgnoreCase("false")) {
            return false;
        }
        throw new ConfigurationException("option " + key + " must be true or false, was '" + value + "'");
    }

    /** A decimal integer (surrounding blanks allowed). */
    public static int number(String key, String value) {
        try {
            return Integer.parseInt(value == null ? "" : value.trim());
        } catch (NumberFormatException e) {
            throw new ConfigurationException("option " + key + " must be a number, was '" + value + "'");
        }
    }

    /** A decimal integer of at least 1 (surrounding blanks allowed). */
    public static int positiveNumber(String key, String value) {
        try {
            int n = Integer.parseInt(value == null ? "" : value.trim());
            if (n >= 1) {
                return n;
            }
        } catch (NumberFormatException e) {
            // answered below, as for a number below 1
        }
        throw new ConfigurationException("option " + key + " must be a positive number, was '" + value + "'");
    }
}
