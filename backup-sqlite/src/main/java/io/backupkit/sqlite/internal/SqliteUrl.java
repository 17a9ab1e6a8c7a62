package io.backupkit.sqlite.internal;

import io.backupkit.ConfigurationException;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Parses {@code sqlite:PATH} (relative or absolute), also {@code sqlite:///abs/path} and
 * {@code jdbc:sqlite:PATH}. Relative paths are resolved against the working directory.
 */
public final class SqliteUrl {
    private SqliteUrl() {
    }

    public static boolean isSqliteUrl(String url) {
        if (url == null) {
            return false;
        }
        String l = url.toLowerCase(Locale.ROOT);
        return l.startsWith("sqlite:") || l.startsWith("jdbc:sqlite:");
    }

    public static Path path(String url) {
        if (!isSqliteUrl(url)) {
            throw new ConfigurationException("not an SQLite URL: '" + url + "'; use sqlite:PATH (relative or absolute file path)");
        }
        String rest = url.substring(url.toLowerCase(Locale.ROOT).startsWith("jdbc:") ? "jdbc:sqlite:".length() : "sqlite:".length());
        if (rest.startsWith("file:")) {
            rest = rest.substring("file:".length());
        }
        int q = rest.indexOf('?');
        if (q >= 0) {
            throw new ConfigurationException("SQLite URL '" + url + "' has parameters; give the file path only (sqlite:PATH) "
                    + "and pass options with -o KEY=VALUE or the builder");
        }
        if (rest.startsWith("//")) {
            // sqlite:///abs/path: an empty authority, like file:///
            if (!rest.startsWith("///")) {
                throw new ConfigurationException("SQLite URL '" + url + "' names a host; SQLite files are local: use sqlite:/absolute/path "
                        + "or sqlite:relative/path");
            }
            rest = rest.substring(2);
        }
        if (rest.isEmpty() || rest.equals(":memory:")) {
            throw new ConfigurationException("SQLite URL '" + url + "' names no file; use sqlite:PATH, e.g. sqlite:/var/lib/app/app.db");
        }
        try {
            return Path.of(rest).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw new ConfigurationException("SQLite URL '" + url + "' is not a valid file path: " + e.getMessage(), e);
        }
    }
}
