package io.backupkit.sqlite.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A new SQLite database file in its own temporary directory, deleted (with its -wal, -shm and
 * -journal files and anything else in that directory) on {@link #close()}. For tests that back up
 * and restore SQLite databases: restore targets go to {@link #sibling(String)}.
 *
 * <pre>{@code
 * try (TemporarySqliteDatabase db = TemporarySqliteDatabase.create(true)) {
 *     db.execute("CREATE TABLE t(x)", "INSERT INTO t VALUES (1)");
 *     BackupSource source = SqliteSource.builder().path(db.path()).build();
 *     RestoreTarget target = SqliteTarget.builder().path(db.sibling("restored.db")).build();
 * }
 * }</pre>
 */
public final class TemporarySqliteDatabase implements AutoCloseable {
    private final Path directory;
    private final Path path;

    private TemporarySqliteDatabase(Path directory, Path path) {
        this.directory = directory;
        this.path = path;
    }

    /**
     * Creates an empty database.
     *
     * @param wal whether to switch it to WAL mode (as most applications that write concurrently do)
     */
    public static TemporarySqliteDatabase create(boolean wal) {
        try {
            Path dir = Files.createTempDirectory("backupkit-sqlite-");
            TemporarySqliteDatabase db = new TemporarySqliteDatabase(dir, dir.resolve("test.db"));
            db.execute("PRAGMA journal_mode=" + (wal ? "WAL" : "DELETE"));
            return db;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary directory for an SQLite database", e);
        }
    }

    /** The database file. */
    public Path path() {
        return path;
    }

    /** {@code sqlite:PATH}, for engines and the CLI. */
    public String url() {
        return "sqlite:" + path;
    }

    /** A path in the same temporary directory (deleted with it), e.g. a restore target. */
    public Path sibling(String name) {
        return directory.resolve(name);
    }

    /** A new connection (the caller closes it). */
    public Connection connect() {
        try {
            return DriverManager.getConnection("jdbc:sqlite:" + path);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot open " + path + ": " + e.getMessage(), e);
        }
    }

    /** Runs statements in one connection, in order. */
    public void execute(String... statements) {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("SQL failed on " + path + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try (Stream<Path> walk = Files.walk(directory)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // best effort: a temporary directory
                }
            });
        } catch (IOException e) {
            // already gone
        }
    }

    @Override
    public String toString() {
        return "TemporarySqliteDatabase[" + path + "]";
    }
}
