package io.backupkit.sqlite.internal;

import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;
import org.sqlite.SQLiteOpenMode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Opening SQLite files through sqlite-jdbc, reading their facts, and turning SQLite errors into clear ones. */
public final class SqliteFiles {
    private SqliteFiles() {
    }

    /**
     * Opens an existing database read-write (never creating it).
     *
     * @param busyTimeout how long SQLite waits for another process's lock before SQLITE_BUSY
     */
    public static Connection open(Path file, Duration busyTimeout) {
        SQLiteConfig cfg = new SQLiteConfig();
        cfg.resetOpenMode(SQLiteOpenMode.CREATE);
        cfg.setBusyTimeout((int) Math.min(Integer.MAX_VALUE, busyTimeout.toMillis()));
        try {
            return cfg.createConnection("jdbc:sqlite:" + file);
        } catch (SQLException e) {
            throw translate(e, file, "open", busyTimeout);
        }
    }

    /** Opens a file that nothing else uses, read-only and without locking (a copy being checked). */
    public static Connection openImmutable(Path file) {
        SQLiteConfig cfg = new SQLiteConfig();
        cfg.setReadOnly(true);
        try {
            return cfg.createConnection("jdbc:sqlite:file:" + file.toUri().getRawPath() + "?immutable=1");
        } catch (SQLException e) {
            throw translate(e, file, "open", Duration.ZERO);
        }
    }

    /** Facts about a database for the manifest and for comparing a restore with its snapshot. */
    public record Facts(int pageSize, long pageCount, String journalMode, String encoding, long userVersion, long applicationId,
                        String sqliteVersion, List<Map<String, Object>> tables, String schemaSha256) {
        public Map<String, Object> rowCounts() {
            Map<String, Object> m = new LinkedHashMap<>();
            tables.forEach(t -> m.put((String) t.get("name"), t.get("rows")));
            return m;
        }
    }

    /** Reads page size and count, the schema fingerprint and (when {@code countRows}) every table's row count. */
    public static Facts facts(Connection c, Path file, boolean countRows) {
        try (Statement s = c.createStatement()) {
            int pageSize = (int) single(s, "PRAGMA page_size");
            long pageCount = single(s, "PRAGMA page_count");
            String journal = text(s, "PRAGMA journal_mode");
            String encoding = text(s, "PRAGMA encoding");
            long userVersion = single(s, "PRAGMA user_version");
            long appId = single(s, "PRAGMA application_id");
            String version = text(s, "SELECT sqlite_version()");
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            List<String> tableNames = new ArrayList<>();
            try (ResultSet r = s.executeQuery("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")) {
                while (r.next()) {
                    for (int i = 1; i <= 4; i++) {
                        String v = r.getString(i);
                        md.update((v == null ? "\u0000null" : v).getBytes(StandardCharsets.UTF_8));
                        md.update((byte) 0x1f);
                    }
                    md.update((byte) 0x1e);
                    String sql = r.getString(4);
                    // virtual tables need their module to count; their shadow tables are ordinary tables and are counted
                    if ("table".equals(r.getString(1)) && (sql == null || !sql.regionMatches(true, 0, "CREATE VIRTUAL", 0, 14))) {
                        tableNames.add(r.getString(2));
                    }
                }
            }
            List<Map<String, Object>> tables = new ArrayList<>();
            for (String t : tableNames) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", t);
                if (countRows) {
                    m.put("rows", single(s, "SELECT count(*) FROM \"" + t.replace("\"", "\"\"") + "\""));
                }
                tables.add(m);
            }
            return new Facts(pageSize, pageCount, journal, encoding, userVersion, appId, version, tables,
                    HexFormat.of().formatHex(md.digest()));
        } catch (SQLException e) {
            throw translate(e, file, "read", Duration.ZERO);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs {@code PRAGMA integrity_check} (or {@code quick_check}) and returns its problems; empty when "ok". */
    public static List<String> integrityProblems(Connection c, Path file, boolean quick, int maxErrors) {
        List<String> problems = new ArrayList<>();
        try (Statement s = c.createStatement();
             ResultSet r = s.executeQuery("PRAGMA " + (quick ? "quick_check" : "integrity_check") + "(" + maxErrors + ")")) {
            while (r.next()) {
                String line = r.getString(1);
                if (!"ok".equals(line)) {
                    problems.add(line);
                }
            }
        } catch (SQLException e) {
            problems.add(translate(e, file, "check", Duration.ZERO).getMessage());
        }
        return problems;
    }

    /** Deletes {@code file} and SQLite's side files of it (-journal, -wal, -shm), quietly. */
    public static void deleteWithSideFiles(Path file) {
        for (String suffix : List.of("", "-journal", "-wal", "-shm")) {
            try {
                Files.deleteIfExists(file.resolveSibling(file.getFileName() + suffix));
            } catch (IOException e) {
                // best effort: a leftover temporary file is named so that it is recognisable
            }
        }
    }

    /**
     * Turns an SQLite error into a backupkit exception that says what happened to which file and what
     * to do: locked, not a database, missing, damaged.
     */
    public static RuntimeException translate(SQLException e, Path file, String action, Duration busyTimeout) {
        SQLiteErrorCode code = e instanceof SQLiteException se ? se.getResultCode() : null;
        int primary = code == null ? e.getErrorCode() : code.code & 0xff;
        String detail = e.getMessage() == null ? "" : e.getMessage();
        return switch (primary) {
            case 5, 6 -> new EngineException("SQLite database " + file + " is locked by another process: it held a lock for longer than "
                    + "the busy timeout (" + busyTimeout.toMillis() + " ms) while we tried to " + action + " it. Retry when the other "
                    + "process has finished its transaction, or wait longer (busyTimeout option, e.g. -o busyTimeout=60s)", e);
            case 26 -> SqliteHeader.notADatabase("SQLite file " + file);
            case 14 -> new ConfigurationException("cannot open SQLite database " + file + " (" + detail + "): check that the file "
                    + "and its directory exist and are readable and writable by this process", e);
            case 11 -> new EngineException("SQLite database " + file + " is damaged (" + detail + "); run PRAGMA integrity_check on it "
                    + "or back up a copy that passes it", e);
            case 8 -> new ConfigurationException("SQLite database " + file + " cannot be written here (" + detail + "); check the file's "
                    + "permissions", e);
            default -> new EngineException("SQLite failed to " + action + " " + file + ": " + detail, e);
        };
    }

    static long single(Statement s, String sql) throws SQLException {
        try (ResultSet r = s.executeQuery(sql)) {
            return r.next() ? r.getLong(1) : 0;
        }
    }

    static String text(Statement s, String sql) throws SQLException {
        try (ResultSet r = s.executeQuery(sql)) {
            return r.next() ? r.getString(1) : "";
        }
    }
}
