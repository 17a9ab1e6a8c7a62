package io.backupkit.postgres;

import io.backupkit.ConfigurationException;
import io.backupkit.Snapshot;
import io.backupkit.postgres.testing.EphemeralPostgres;
import io.backupkit.spi.CommandExecutor;
import io.backupkit.spi.RestoreContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.sql.Connection;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import static io.backupkit.postgres.PgTestSupport.source;
import static io.backupkit.postgres.PgTestSupport.target;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Replacing an existing database (issue 9, item 13): the old one survives, unchanged, any failure
 * before the restore is complete; sessions on it are ended only when asked; the final steps do not
 * depend on a maintenance session that sat idle through the restore.
 */
class PostgresDropExistingIT {
    static EphemeralPostgres pg;
    static InMemoryBackup backup;
    static Snapshot snapshot;

    @BeforeAll
    static void start() {
        pg = EphemeralPostgres.builder().setting("max_connections", "60").start();
        pg.createDatabase("shop");
        pg.execute("postgres", "ALTER DATABASE shop SET work_mem = '12MB'");
        pg.execute("shop", """
                CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);
                INSERT INTO customers SELECT i, 'customer ' || i FROM generate_series(1, 2000) i;
                CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer int REFERENCES customers, total numeric);
                INSERT INTO orders (customer, total) SELECT 1 + i % 2000, i * 1.5 FROM generate_series(1, 5000) i;
                """);
        backup = new InMemoryBackup(2);
        PostgresSource source = source(pg, "shop");
        source.backup(backup);
        snapshot = backup.snapshot(source);
    }

    @AfterAll
    static void stop() {
        pg.close();
    }

    private static void createPrecious(String db) {
        pg.createDatabase(db);
        pg.execute(db, "CREATE TABLE precious (id int PRIMARY KEY, v text); INSERT INTO precious SELECT i, 'keep ' || i FROM generate_series(1, 300) i");
        pg.execute("postgres", "COMMENT ON DATABASE " + db + " IS 'the old one'");
    }

    private static List<String> leftovers() {
        return pg.query("postgres", "SELECT datname FROM pg_database WHERE datname LIKE 'backupkit\\_%' ORDER BY 1").stream()
                .map(r -> r.get(0)).toList();
    }

    private static UnaryOperator<byte[]> flipMiddle() {
        return b -> {
            byte[] c = b.clone();
            c[c.length / 2] ^= 0x40;
            return c;
        };
    }

    @Test
    void failureMidRestore_leavesTheOldDatabaseThere_unchanged() {
        createPrecious("prod");
        Map<String, String> before = DbDigest.tables(pg, "prod");
        String shard = snapshot.streams().stream().map(s -> s.name()).filter(n -> n.startsWith("data-0")).findFirst().orElseThrow();
        for (String damaged : List.of(shard, "post-data")) {
            RuntimeException e = assertThrows(RuntimeException.class, () -> target(pg, "prod").dropExisting().build()
                    .restore(backup.restoreContext(snapshot, 2, Map.of(damaged, flipMiddle()))));
            assertTrue(e.getMessage().contains(damaged) || e.toString().contains("Integrity"), e.toString());
            assertTrue(pg.databaseExists("prod"), "the old database survives a failure in " + damaged);
            assertEquals(before, DbDigest.tables(pg, "prod"), "and is unchanged");
            assertEquals("the old one", pg.queryForString("postgres", "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                    + "WHERE datname = 'prod'"));
            assertEquals(List.of(), leftovers(), "the partly restored copy is removed");
        }
        // and a good restore then replaces it
        target(pg, "prod").dropExisting().build().restore(backup.restoreContext(snapshot, 2));
        assertEquals(DbDigest.tables(pg, "shop"), DbDigest.tables(pg, "prod"));
        assertEquals(List.of("{work_mem=12MB}"), pg.query("postgres", "SELECT setconfig::text FROM pg_db_role_setting s JOIN pg_database d "
                + "ON d.oid = s.setdatabase WHERE d.datname = 'prod'").stream().map(r -> r.get(0)).toList());
        assertEquals(List.of(), leftovers());
        pg.dropDatabase("prod");
    }

    @Test
    void sessionsOnTheOldDatabase_refuseTheReplacement_unlessTerminateSessions() throws Exception {
        createPrecious("busy");
        Map<String, String> before = DbDigest.tables(pg, "busy");
        try (Connection app = pg.connect("busy")) {
            ConfigurationException e = assertThrows(ConfigurationException.class,
                    () -> target(pg, "busy").dropExisting().build().restore(backup.restoreContext(snapshot, 2)));
            assertTrue(e.getMessage().contains("1 other session(s) are connected to database busy"), e.getMessage());
            assertTrue(e.getMessage().contains("terminateSessions()") && e.getMessage().contains("--terminate-sessions"), e.getMessage());
            assertTrue(app.isValid(5), "the application's session was left alone");
            assertEquals(before, DbDigest.tables(pg, "busy"));
            assertEquals(List.of(), leftovers());

            target(pg, "busy").dropExisting().terminateSessions().build().restore(backup.restoreContext(snapshot, 2));
            assertFalse(app.isValid(5), "asked to, the restore ended the session");
        }
        assertEquals(DbDigest.tables(pg, "shop"), DbDigest.tables(pg, "busy"));
        assertEquals(List.of(), leftovers());
        pg.dropDatabase("busy");
    }

    @Test
    void aSessionEndingAsTheRestoreStarts_doesNotRefuseTheReplacement() throws Exception {
        createPrecious("closing");
        Connection app = pg.connect("closing");
        // as a script that closes its connection and restores at once: the backend is still listed for a moment
        Thread closer = new Thread(() -> {
            try {
                Thread.sleep(300);
                app.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        closer.start();
        target(pg, "closing").dropExisting().build().restore(backup.restoreContext(snapshot, 2));
        closer.join();
        assertTrue(app.isClosed());
        assertEquals(DbDigest.tables(pg, "shop"), DbDigest.tables(pg, "closing"), "the session's end let the restore replace the database");
        assertEquals(List.of(), leftovers());
        pg.dropDatabase("closing");
    }

    /** A restore context whose post-data stream arrives only after a pause, as after a long data phase. */
    private static RestoreContext slow(RestoreContext inner, long pauseMillis) {
        return new RestoreContext() {
            @Override
            public Snapshot snapshot() {
                return inner.snapshot();
            }

            @Override
            public InputStream openStream(String name) {
                if (name.equals("post-data")) {
                    try {
                        Thread.sleep(pauseMillis);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return inner.openStream(name);
            }

            @Override
            public int parallelism() {
                return inner.parallelism();
            }

            @Override
            public CommandExecutor commandExecutor() {
                return inner.commandExecutor();
            }
        };
    }

    @Test
    void theFinalSteps_doNotDependOnTheMaintenanceSessionThatSatIdleThroughTheRestore() {
        createPrecious("nightly");
        // the server closes sessions of the maintenance database that stay idle for a second
        pg.execute("postgres", "ALTER DATABASE postgres SET idle_session_timeout = '1s'");
        try {
            target(pg, "fresh").build().restore(slow(backup.restoreContext(snapshot, 2), 3000));
            assertEquals(DbDigest.tables(pg, "shop"), DbDigest.tables(pg, "fresh"));
            assertEquals("{work_mem=12MB}", pg.queryForString("template1", "SELECT setconfig::text FROM pg_db_role_setting s "
                    + "JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = 'fresh'"));

            target(pg, "nightly").dropExisting().build().restore(slow(backup.restoreContext(snapshot, 2), 3000));
            assertEquals(DbDigest.tables(pg, "shop"), DbDigest.tables(pg, "nightly"));
        } finally {
            pg.execute("template1", "ALTER DATABASE postgres RESET idle_session_timeout");
        }
        assertEquals(List.of(), leftovers());
        pg.dropDatabase("fresh");
        pg.dropDatabase("nightly");
    }

    /**
     * A replacement refused because the old database is in use says "it was not changed": with
     * restoreGlobals() nothing else may have changed either, so the snapshot's roles must not have
     * been replayed on the server before the refusal.
     */
    @Test
    void aReplacementRefusedForSessions_hasNotReplayedTheGlobalsEither() throws Exception {
        pg.execute("postgres", "CREATE ROLE auditor_gone NOLOGIN");
        InMemoryBackup withRole = new InMemoryBackup(2);
        PostgresSource source = source(pg, "shop");
        source.backup(withRole);
        Snapshot s = withRole.snapshot(source);
        pg.execute("postgres", "DROP ROLE auditor_gone");
        createPrecious("inuse");
        try (Connection app = pg.connect("inuse")) {
            ConfigurationException e = assertThrows(ConfigurationException.class,
                    () -> target(pg, "inuse").dropExisting().restoreGlobals().build().restore(withRole.restoreContext(s, 2)));
            assertTrue(e.getMessage().contains("other session(s) are connected to database inuse") && e.getMessage().contains("not changed"),
                    e.getMessage());
            assertEquals("0", pg.queryForString("postgres", "SELECT count(*) FROM pg_roles WHERE rolname = 'auditor_gone'"),
                    "the snapshot's roles were replayed although the restore was refused");
            assertTrue(app.isValid(5));
        }
        assertEquals(List.of(), leftovers());
        pg.dropDatabase("inuse");
    }
}
