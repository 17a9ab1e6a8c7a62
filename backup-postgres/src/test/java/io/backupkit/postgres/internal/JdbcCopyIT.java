package io.backupkit.postgres.internal;

import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.PGConnection;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * COPY read in bulk by {@link JdbcCopy}: the same bytes and rows as the driver's own COPY API, whatever the rows
 * look like (empty, escaped, larger than the buffer), with the driver's protocol state intact for what follows;
 * the server's errors, notices and a connection that ends mid-stream come through as the driver reports them;
 * over TLS, or through a socket factory of the URL's, rows come one by one with the same bytes.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class JdbcCopyIT {
    static EphemeralPostgres pg;

    @BeforeAll
    static void start(@TempDir Path tls) throws Exception {
        pg = EphemeralPostgres.start();
        // a self-signed certificate: the server offers TLS, and pgjdbc's sslmode=require takes it unverified
        Process p = new ProcessBuilder("openssl", "req", "-new", "-x509", "-days", "2", "-nodes", "-subj", "/CN=localhost",
                "-newkey", "rsa:2048", "-keyout", tls.resolve("server.key").toString(), "-out", tls.resolve("server.crt").toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
        pg.stopServer();
        pg.writeDataFile("server.crt", Files.readString(tls.resolve("server.crt")));
        pg.writeDataFile("server.key", Files.readString(tls.resolve("server.key")));
        Files.setPosixFilePermissions(pg.dataDirectory().resolve("server.key"), PosixFilePermissions.fromString("rw-------"));
        pg.appendAutoConf(Map.of("ssl", "on", "ssl_cert_file", "'server.crt'", "ssl_key_file", "'server.key'"));
        pg.restart();
        pg.createDatabase("copy");
        Random rnd = new Random(20261201);
        StringBuilder sql = new StringBuilder("CREATE TABLE t (id int, v text, b bytea);\n");
        // values of every length up to a few KiB with the bytes COPY escapes (tab, newline, backslash, CR), NULLs
        // and empty strings, and one row of 3 MiB, larger than the session's read buffer
        for (int batch = 0; batch < 20; batch++) {
            sql.append("INSERT INTO t VALUES ");
            for (int i = 0; i < 500; i++) {
                int id = batch * 500 + i;
                String v = switch (rnd.nextInt(6)) {
                    case 0 -> "NULL";
                    case 1 -> "''";
                    default -> "'" + randomText(rnd, rnd.nextInt(1500)) + "'";
                };
                sql.append(i == 0 ? "" : ",").append("(").append(id).append(", ").append(v).append(", decode('")
                        .append(randomHex(rnd, rnd.nextInt(64))).append("', 'hex'))");
            }
            sql.append(";\n");
        }
        sql.append("INSERT INTO t VALUES (-1, repeat('0123456789abcdef', 196608), NULL);\n");
        sql.append("CREATE FUNCTION noisy(i int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN IF i % 20000 = 0 THEN "
                + "RAISE NOTICE 'row %', i; END IF; RETURN i; END $$;\n");
        pg.execute("copy", sql.toString());
    }

    private static String randomText(Random rnd, int n) {
        String alphabet = "abcdefghijklmnopqrstuvwxyzÄÖÜé€ \\\t\n\r;|,\"'";
        StringBuilder b = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            char c = alphabet.charAt(rnd.nextInt(alphabet.length()));
            b.append(c == '\'' ? "''" : String.valueOf(c));
        }
        return b.toString();
    }

    private static String randomHex(Random rnd, int bytes) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < bytes; i++) {
            b.append(String.format("%02x", rnd.nextInt(256)));
        }
        return b.toString();
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    private static PgConnectionConfig cfg(String sslMode) {
        return PgConnectionConfig.of(pg.jdbcUrl("copy"), pg.user(), pg.password().toCharArray(), sslMode, null);
    }

    /** The driver's own COPY of {@code sql}: the reference. */
    private static byte[] reference(String sql) throws Exception {
        try (Connection c = Catalog.connect(cfg("disable"), "reference")) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            c.unwrap(PGConnection.class).getCopyAPI().copyOut(sql, out);
            return out.toByteArray();
        }
    }

    private static long count(String sql) {
        return Long.parseLong(pg.query("copy", sql).get(0).get(0));
    }

    static final String ALL = "COPY t TO STDOUT";
    static final String WIDE = "COPY (SELECT t.*, s FROM t, generate_series(1, 4) s) TO STDOUT";

    /** Each case: the COPY, and the query that counts its rows. */
    static final String[][] CASES = {
            {ALL, "SELECT count(*) FROM t"},
            {WIDE, "SELECT 4 * count(*) FROM t"},
            {"COPY (SELECT * FROM t WHERE false) TO STDOUT", "SELECT 0"},
            // not UTF-8: every character of the table is in LATIN9 (€ too)
            {"COPY (SELECT * FROM t ORDER BY id DESC) TO STDOUT WITH (ENCODING 'LATIN9')", "SELECT count(*) FROM t"},
    };

    @ParameterizedTest(name = "{0}")
    @ValueSource(ints = {0, 1, 2, 3})
    void inBulk_theBytesAndRowsAreTheDrivers(int i) throws Exception {
        String sql = CASES[i][0];
        byte[] expected = reference(sql);
        try (JdbcCopy session = JdbcCopy.open(cfg("disable"), "bulk test")) {
            assertTrue(session.bulk(), "a plain socket is read in bulk");
            assertTrue(session.tap.socket.getKeepAlive(), "a vanished peer fails the read, it does not hold the COPY for hours");
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            long rows = session.copyOut(sql, out);
            assertArrayEquals(expected, out.toByteArray(), sql);
            assertEquals(count(CASES[i][1]), rows, sql);
        }
    }

    @Test
    void severalCopiesAndQueries_inOneSession_keepTheDriverInStep() throws Exception {
        byte[] all = reference(ALL);
        try (JdbcCopy session = JdbcCopy.open(cfg("disable"), "bulk test"); Statement st = session.connection().createStatement()) {
            st.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
            for (int i = 0; i < 3; i++) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                assertEquals(10_001, session.copyOut(ALL, out));
                assertArrayEquals(all, out.toByteArray());
                ByteArrayOutputStream small = new ByteArrayOutputStream();
                assertEquals(1, session.copyOut("COPY (SELECT 42) TO STDOUT", small));
                assertEquals("42\n", small.toString());
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM t")) {
                    assertTrue(rs.next());
                    assertEquals(10_001, rs.getLong(1));
                }
            }
            st.execute("COMMIT");
        }
    }

    @Test
    void aFailedCopy_leavesNothingOfItInTheNext() throws Exception {
        try (JdbcCopy session = JdbcCopy.open(cfg("disable"), "bulk test")) {
            assertThrows(SQLException.class, () -> session.copyOut(
                    "COPY (SELECT i, 10 / (150000 - i) FROM generate_series(1, 200000) i) TO STDOUT", OutputStream.nullOutputStream()));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertEquals(1, session.copyOut("COPY (SELECT 42) TO STDOUT", out));
            assertEquals("42\n", out.toString());
        }
    }

    @Test
    void theSessionsPrologue_readsTheExportedSnapshot_notWhatWasCommittedAfter() throws Exception {
        pg.execute("copy", "CREATE TABLE snap (i int); INSERT INTO snap VALUES (1)");
        try (Connection leader = Catalog.connect(cfg("disable"), "leader"); Statement l = leader.createStatement()) {
            l.execute("BEGIN ISOLATION LEVEL REPEATABLE READ");
            String snapshot;
            try (ResultSet rs = l.executeQuery("SELECT pg_export_snapshot()")) {
                assertTrue(rs.next());
                snapshot = rs.getString(1);
            }
            pg.execute("copy", "INSERT INTO snap VALUES (2)");
            try (JdbcCopy session = JdbcCopy.open(cfg("disable"), "snapshot test"); Statement st = session.connection().createStatement()) {
                // the batch LogicalBackup sends: settings, BEGIN, SET TRANSACTION SNAPSHOT in one round trip
                st.execute(LogicalBackup.sessionPrologue(snapshot, 1000));
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                assertEquals(1, session.copyOut("COPY snap TO STDOUT", out));
                assertEquals("1\n", out.toString());
                st.execute("COMMIT");
            }
        }
        assertEquals(2, count("SELECT count(*) FROM snap"));
    }

    @Test
    void aDataSession_neverJitCompilesAPageRangesQuery_evenWhereTheServerWouldForEveryQuery() throws Exception {
        pg.execute("copy", "CREATE TABLE ranged (i int, t text); INSERT INTO ranged SELECT i, md5(i::text) FROM generate_series(1, 2000) i");
        // the form of a large table's page range, with the threshold down to every query
        String explain = "EXPLAIN (ANALYZE, VERBOSE) SELECT i, t FROM ONLY ranged WHERE ctid >= '(0,0)'::tid AND ctid < '(8,0)'::tid";
        try (Connection leader = Catalog.connect(cfg("disable"), "leader"); Statement l = leader.createStatement()) {
            l.execute("SET jit_above_cost = 0");
            try (ResultSet rs = l.executeQuery("SELECT pg_jit_available()")) {
                assertTrue(rs.next());
                assumeTrue(rs.getBoolean(1), "a server without a JIT provider never compiles: nothing to tell apart");
            }
            assertTrue(plan(l, explain).contains("JIT:"), "control: a session without our settings compiles it");
            l.execute("BEGIN ISOLATION LEVEL REPEATABLE READ");
            String snapshot;
            try (ResultSet rs = l.executeQuery("SELECT pg_export_snapshot()")) {
                assertTrue(rs.next());
                snapshot = rs.getString(1);
            }
            try (JdbcCopy session = JdbcCopy.open(cfg("disable"), "jit test"); Statement st = session.connection().createStatement()) {
                st.execute(LogicalBackup.sessionPrologue(snapshot, 1000));
                st.execute("SET jit_above_cost = 0");
                String plan = plan(st, explain);
                assertTrue(plan.contains("Tid Range Scan") || plan.contains("Seq Scan"), plan);
                assertFalse(plan.contains("JIT:"), plan);
                st.execute("COMMIT");
            }
        }
    }

    private static String plan(Statement st, String explain) throws SQLException {
        StringBuilder plan = new StringBuilder();
        try (ResultSet rs = st.executeQuery(explain)) {
            while (rs.next()) {
                plan.append(rs.getString(1)).append('\n');
            }
        }
        return plan.toString();
    }

    @Test
    void theWait_shrinksWhereTheSocketFillsUp_andStopsWhereEvenTheShortestFillsIt() {
        long max = JdbcCopy.MAX_WAIT_NANOS;
        int capacity = 1 << 20;
        // a quarter of the buffer waiting: close to a full socket, where the server would wait on the reader
        assertEquals(max / 2, JdbcCopy.nextWait(max, capacity / 4, capacity));
        assertEquals(max / 4, JdbcCopy.nextWait(max / 2, capacity, capacity));
        long wait = max;
        int waits = 0;
        while (wait > 0) {
            wait = JdbcCopy.nextWait(wait, capacity / 2, capacity);
            waits++;
        }
        assertEquals(4, waits, "1 ms, 0.5, 0.25, 0.125, then none");
        // little waiting: the server is slower than the wait, which may grow again up to its bound
        assertEquals(max / 2, JdbcCopy.nextWait(max / 4, capacity / 32, capacity));
        assertEquals(max, JdbcCopy.nextWait(max, 0, capacity));
        // in between: kept
        assertEquals(max / 2, JdbcCopy.nextWait(max / 2, capacity / 8, capacity));
        // a buffer fixed at a few KiB (SO_RCVBUF set by hand): the first wait fills it, and the waits stop soon
        wait = max;
        for (int i = 0; i < 4; i++) {
            wait = JdbcCopy.nextWait(wait, 8192, 8192);
        }
        assertEquals(0, wait);
    }

    @Test
    void anErrorInTheMiddleOfTheRows_isTheServersError_andTheSessionGoesOn() throws Exception {
        try (JdbcCopy session = JdbcCopy.open(cfg("disable"), "bulk test")) {
            Connection c = session.connection();
            assertTrue(session.bulk());
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            SQLException e = assertThrows(SQLException.class, () -> session.copyOut(
                    "COPY (SELECT i, 10 / (150000 - i), repeat('x', 100) FROM generate_series(1, 200000) i) TO STDOUT", out));
            assertEquals("22012", e.getSQLState(), e.toString());
            assertTrue(out.size() > 1 << 20, "the error came after MiBs of rows: " + out.size());
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 7")) {
                assertTrue(rs.next());
                assertEquals(7, rs.getInt(1));
            }
        }
    }

    @Test
    void noticesAmongTheRows_areTheDriversToRead_andTheRowsGoOn() throws Exception {
        String sql = "COPY (SELECT noisy(i), repeat('y', 200) FROM generate_series(1, 100000) i) TO STDOUT";
        byte[] expected = reference(sql);
        try (JdbcCopy session = JdbcCopy.open(cfg("disable"), "bulk test")) {
            Connection c = session.connection();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertEquals(100_000, session.copyOut(sql, out));
            assertArrayEquals(expected, out.toByteArray());
            List<String> notices = new java.util.ArrayList<>();
            for (java.sql.SQLWarning w = c.getWarnings(); w != null; w = w.getNextWarning()) {
                notices.add(w.getMessage());
            }
            assertEquals(5, notices.size(), notices.toString());
        }
    }

    @Test
    void aSessionTerminatedMidStream_failsAsALostConnection_neverAsAShorterCopy() throws Exception {
        CountDownLatch writing = new CountDownLatch(1);
        CountDownLatch terminated = new CountDownLatch(1);
        OutputStream held = new OutputStream() {
            @Override
            public void write(int b) {
                throw new UnsupportedOperationException();
            }

            @Override
            public void write(byte[] b, int off, int len) {
                writing.countDown();
                try {
                    terminated.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        try (JdbcCopy session = JdbcCopy.open(cfg("disable"), "bulk victim")) {
            assertTrue(session.bulk());
            Thread killer = new Thread(() -> {
                try {
                    assertTrue(writing.await(60, TimeUnit.SECONDS));
                    pg.execute("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'bulk victim'");
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    terminated.countDown();
                }
            });
            killer.start();
            SQLException e = assertThrows(SQLException.class, () -> session.copyOut(WIDE, held));
            killer.join();
            assertTrue(List.of("08006", "57P01").contains(e.getSQLState()), e + " " + e.getSQLState());
        }
    }

    @Test
    void overTls_theRowsComeOneByOne_withTheSameBytes() throws Exception {
        byte[] expected = reference(ALL);
        try (JdbcCopy session = JdbcCopy.open(cfg("require"), "tls test"); Statement st = session.connection().createStatement(); ResultSet rs = st.executeQuery("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
            assertTrue(rs.next());
            assertTrue(rs.getBoolean(1), "the session is encrypted");
            assertFalse(session.bulk(), "TLS bytes are not messages");
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertEquals(10_001, session.copyOut(ALL, out));
            assertArrayEquals(expected, out.toByteArray());
        }
    }

    /** A socket factory a user might name in the URL. */
    public static final class UsersSocketFactory extends UnconnectedSocketFactory {
        public UsersSocketFactory() {
        }

        @Override
        public Socket createSocket() {
            return new Socket();
        }
    }

    @Test
    void aSocketFactoryOfTheUrl_isKept_andTheRowsComeOneByOne() throws Exception {
        byte[] expected = reference(ALL);
        PgConnectionConfig users = cfg("disable").withParam("socketFactory", UsersSocketFactory.class.getName());
        try (JdbcCopy session = JdbcCopy.open(users, "factory test")) {
            assertFalse(session.bulk(), "the URL's socket factory made the socket");
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            assertEquals(10_001, session.copyOut(ALL, out));
            assertTrue(Arrays.equals(expected, out.toByteArray()));
        }
    }
}
