package io.backupkit.sqlite;

import io.backupkit.ConfigurationException;
import io.backupkit.sqlite.internal.SqliteUrl;
import io.backupkit.spi.BackupSource;
import io.backupkit.spi.DatabaseEngine;
import io.backupkit.spi.EngineOptions;
import io.backupkit.spi.RestoreTarget;

import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The SQLite {@link DatabaseEngine}, found by {@link java.util.ServiceLoader} for {@code sqlite:PATH}
 * URLs (relative or absolute path; {@code jdbc:sqlite:PATH} works too).
 *
 * <p>Source options: {@code tempDirectory}, {@code busyTimeout} ({@code 30s}, {@code PT1M} or
 * milliseconds), {@code countRows}, {@code blockSize}. Target options: {@code dropExisting} (or
 * {@code overwrite}), {@code busyTimeout}. {@code password} and {@code jobs} are accepted and ignored
 * (SQLite files have no password; the CLI passes them for every engine).
 *
 * <pre>{@code
 * BackupSource s = new SqliteEngine().source("sqlite:/var/lib/app/app.db", Map.of("tempDirectory", "/var/tmp"));
 * }</pre>
 */
public final class SqliteEngine implements DatabaseEngine {
    public static final String NAME = "sqlite";

    private static final Set<String> SOURCE_OPTIONS = Set.of("tempDirectory", "busyTimeout", "countRows", "blockSize", "password", "jobs");
    private static final Set<String> TARGET_OPTIONS = Set.of("dropExisting", "overwrite", "busyTimeout", "password", "jobs");

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean supports(String url) {
        return SqliteUrl.isSqliteUrl(url);
    }

    @Override
    public BackupSource source(String url, Map<String, String> options) {
        EngineOptions.requireKnown("SQLite", "source", options, SOURCE_OPTIONS);
        SqliteSource.Builder b = SqliteSource.builder().url(url);
        options.forEach((k, v) -> {
            switch (k) {
                case "tempDirectory" -> b.tempDirectory(Path.of(v));
                case "busyTimeout" -> b.busyTimeout(duration(k, v));
                case "countRows" -> b.countRows(EngineOptions.flag(k, v));
                case "blockSize" -> b.blockSize(EngineOptions.number(k, v));
                case "password", "jobs" -> { }
                default -> throw new IllegalStateException(k);
            }
        });
        return b.build();
    }

    @Override
    public RestoreTarget target(String url, Map<String, String> options) {
        EngineOptions.requireKnown("SQLite", "target", options, TARGET_OPTIONS);
        SqliteTarget.Builder b = SqliteTarget.builder().url(url);
        options.forEach((k, v) -> {
            switch (k) {
                case "dropExisting", "overwrite" -> b.overwrite(EngineOptions.flag(k, v));
                case "busyTimeout" -> b.busyTimeout(duration(k, v));
                case "password", "jobs" -> { }
                default -> throw new IllegalStateException(k);
            }
        });
        return b.build();
    }

    /** {@code 30s}, {@code 2m}, {@code 500ms}, an ISO-8601 duration, or plain milliseconds. */
    static Duration duration(String key, String v) {
        String t = v.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.startsWith("pt")) {
                return Duration.parse(t.toUpperCase(Locale.ROOT));
            }
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            }
            if (t.endsWith("s")) {
                return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
            }
            if (t.endsWith("m")) {
                return Duration.ofMinutes(Long.parseLong(t.substring(0, t.length() - 1)));
            }
            return Duration.ofMillis(Long.parseLong(t));
        } catch (NumberFormatException | DateTimeParseException e) {
            throw new ConfigurationException("option " + key + " must be a duration such as 30s, 2m or 500ms, was '" + v + "'");
        }
    }
}
