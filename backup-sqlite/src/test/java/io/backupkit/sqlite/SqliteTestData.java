package io.backupkit.sqlite;

import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.Random;

/** Builds test databases: accounts (a bank invariant), a log, and rows with payloads to reach a size. */
final class SqliteTestData {
    static final long TOTAL_BALANCE = 1_000_000L;
    static final int ACCOUNTS = 100;

    private SqliteTestData() {
    }

    static Connection connect(Path file) throws SQLException {
        return DriverManager.getConnection("jdbc:sqlite:" + file);
    }

    /** Creates tables and {@code rows} payload rows of {@code rowBytes} bytes each. */
    static void create(Path file, boolean wal, int rows, int rowBytes, long seed) throws SQLException {
        try (Connection c = connect(file); Statement s = c.createStatement()) {
            s.execute("PRAGMA journal_mode=" + (wal ? "WAL" : "DELETE"));
            s.execute("CREATE TABLE accounts(id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)");
            s.execute("CREATE TABLE transfers(id INTEGER PRIMARY KEY, src INTEGER, dst INTEGER, amount INTEGER, note TEXT)");
            s.execute("CREATE TABLE counter(id INTEGER PRIMARY KEY CHECK (id = 1), transfers INTEGER NOT NULL)");
            s.execute("CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, payload BLOB NOT NULL)");
            s.execute("CREATE INDEX items_name ON items(name)");
            s.execute("CREATE VIEW rich AS SELECT * FROM accounts WHERE balance > 10000");
            s.execute("CREATE TRIGGER transfers_note BEFORE INSERT ON transfers WHEN NEW.note IS NULL "
                    + "BEGIN SELECT RAISE(ABORT, 'note required'); END");
            c.setAutoCommit(false);
            try (PreparedStatement p = c.prepareStatement("INSERT INTO accounts VALUES (?, ?)")) {
                for (int i = 1; i <= ACCOUNTS; i++) {
                    p.setInt(1, i);
                    p.setLong(2, TOTAL_BALANCE / ACCOUNTS);
                    p.addBatch();
                }
                p.executeBatch();
            }
            s.execute("INSERT INTO counter VALUES (1, 0)");
            Random r = new Random(seed);
            try (PreparedStatement p = c.prepareStatement("INSERT INTO items VALUES (?, ?, ?)")) {
                for (int i = 1; i <= rows; i++) {
                    // a new array per row: the driver keeps a reference until the batch runs
                    byte[] payload = new byte[rowBytes];
                    r.nextBytes(payload);
                    p.setInt(1, i);
                    p.setString(2, "item-" + i + "-ä€");
                    p.setBytes(3, payload);
                    p.addBatch();
                    if (i % 10_000 == 0) {
                        p.executeBatch();
                    }
                }
                p.executeBatch();
            }
            c.commit();
        }
    }

    /** Rewrites the payload of {@code count} random rows in place (same size). */
    static void changeRandomRows(Path file, int rows, int count, int rowBytes, long seed) throws SQLException {
        try (Connection c = connect(file)) {
            c.setAutoCommit(false);
            Random r = new Random(seed);
            try (PreparedStatement p = c.prepareStatement("UPDATE items SET payload = ? WHERE id = ?")) {
                java.util.Set<Integer> done = new java.util.HashSet<>();
                while (done.size() < count) {
                    int id = 1 + r.nextInt(rows);
                    if (done.add(id)) {
                        byte[] payload = new byte[rowBytes];
                        r.nextBytes(payload);
                        p.setBytes(1, payload);
                        p.setInt(2, id);
                        p.addBatch();
                    }
                }
                p.executeBatch();
            }
            c.commit();
        }
    }

    /** Checks the bank invariant and that the log and the counter agree; returns the number of transfers. */
    static long checkInvariant(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            long sum = longOf(s, "SELECT sum(balance) FROM accounts");
            long n = longOf(s, "SELECT transfers FROM counter");
            long logged = longOf(s, "SELECT count(*) FROM transfers");
            if (sum != TOTAL_BALANCE || n != logged) {
                throw new AssertionError("inconsistent copy: balance sum " + sum + " (want " + TOTAL_BALANCE + "), counter " + n
                        + " vs " + logged + " logged transfers");
            }
            return n;
        }
    }

    /** A digest of every row of every table (in primary-key order), for equality of two databases. */
    static String contentDigest(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (Connection c = connect(file); Statement s = c.createStatement()) {
            java.util.List<String> tables = new java.util.ArrayList<>();
            try (ResultSet r = s.executeQuery("SELECT name, sql FROM sqlite_master WHERE type IN ('table','index','view','trigger') ORDER BY name")) {
                while (r.next()) {
                    md.update((r.getString(1) + "\u0001" + r.getString(2)).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                }
            }
            try (ResultSet r = s.executeQuery("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")) {
                while (r.next()) {
                    tables.add(r.getString(1));
                }
            }
            for (String t : tables) {
                try (ResultSet r = s.executeQuery("SELECT * FROM \"" + t + "\" ORDER BY rowid")) {
                    int cols = r.getMetaData().getColumnCount();
                    while (r.next()) {
                        for (int i = 1; i <= cols; i++) {
                            byte[] b = r.getBytes(i);
                            md.update(b == null ? new byte[] {0x7f} : b);
                            md.update((byte) 0);
                        }
                    }
                }
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static long longOf(Statement s, String sql) throws SQLException {
        try (ResultSet r = s.executeQuery(sql)) {
            r.next();
            return r.getLong(1);
        }
    }
}
