package io.backupkit.postgres;

import io.backupkit.Snapshot;
import io.backupkit.SnapshotStream;
import io.backupkit.postgres.internal.LogicalBackup;
import io.backupkit.postgres.internal.ToolRunner;
import io.backupkit.postgres.testing.EphemeralPostgres;
import io.backupkit.testkit.ChildProcesses;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * pg_dumpall runs beside the catalog phase with its output read ahead: when it has ended by the time the
 * data starts, the globals are stored after the data (no worker waits for pg_dumpall); when its output is
 * larger than the read-ahead (tens of thousands of roles), they are stored whole, first, as before.
 */
class PostgresGlobalsEarlyIT {
    /** 40 characters, so each role takes ~200 bytes of pg_dumpall's output. */
    static final String ROLE = "shop_role_with_a_long_name_for_globals_";
    static EphemeralPostgres pg;

    @BeforeAll
    static void start() {
        // a cluster of its own: roles are cluster-wide
        pg = EphemeralPostgres.start();
        pg.createDatabase("shop");
        pg.execute("shop", "CREATE TABLE a AS SELECT i, md5(i::text) AS pad FROM generate_series(1, 20000) i;"
                + "CREATE TABLE b AS SELECT i, md5(i::text) AS pad FROM generate_series(1, 20000) i");
    }

    @AfterAll
    static void stop() {
        pg.close();
    }

    private static PostgresSource source() {
        return PostgresSource.builder().url(pg.jdbcUrl("shop")).user(pg.user()).password(pg.password().toCharArray())
                .toolDirectory(ToolRunner.findLocalToolDirectory().orElseThrow()).build();
    }

    private static List<String> streamOrder(Snapshot s) {
        return s.streams().stream().map(SnapshotStream::name).toList();
    }

    private static String globalsOf(InMemoryBackup ctx) {
        return new String(ctx.data(LogicalBackup.GLOBALS), StandardCharsets.UTF_8);
    }

    @Test
    void fewRoles_globalsAreStoredAfterTheData() throws Exception {
        InMemoryBackup ctx = new InMemoryBackup(2);
        // the leader's catalog phase waits on a table lock until pg_dumpall (started once the leader is in) has
        // ended: then its few KiB are stored after the data, taking no worker from it
        try (Connection migration = pg.connect("shop"); Statement st = migration.createStatement()) {
            migration.setAutoCommit(false);
            st.execute("LOCK TABLE a IN ACCESS EXCLUSIVE MODE");
            Thread backup = new Thread(() -> source().backup(ctx));
            backup.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (pg.query("postgres", "SELECT 1 FROM pg_stat_activity WHERE application_name = 'backupkit-backup' "
                    + "AND wait_event_type = 'Lock'").isEmpty() || !ChildProcesses.named("pg_dumpall").isEmpty()) {
                assertTrue(System.nanoTime() < deadline, "the leader waits for its lock and pg_dumpall has ended");
                Thread.sleep(20);
            }
            migration.commit();
            backup.join(TimeUnit.MINUTES.toMillis(2));
            assertFalse(backup.isAlive());
        }
        List<String> order = streamOrder(ctx.snapshot(source()));
        assertTrue(order.indexOf(LogicalBackup.GLOBALS) > order.indexOf("data-0001")
                && order.indexOf(LogicalBackup.GLOBALS) > order.indexOf("data-0002"), "stored after the data: " + order);
        assertTrue(globalsOf(ctx).contains("CREATE ROLE " + pg.user()), globalsOf(ctx));
    }

    @Test
    void moreGlobalsThanTheReadAhead_areStoredWholeAndFirst_soPgDumpallNeverWaitsForTheData() throws Exception {
        // 24,000 roles with long names: pg_dumpall writes ~4.8 MB, more than the 4 MiB read ahead
        pg.execute("postgres", "DO $$ BEGIN FOR i IN 1..24000 LOOP EXECUTE format('CREATE ROLE %I', '" + ROLE + "' || i); "
                + "IF i % 2000 = 0 THEN COMMIT; END IF; END LOOP; END $$");
        try {
            String expected = pg.runTool("pg_dumpall", "--globals-only", "--no-role-passwords", "--encoding=UTF8");
            assertTrue(expected.getBytes(StandardCharsets.UTF_8).length > LogicalBackup.GLOBALS_READ_AHEAD,
                    "the test's globals exceed the read-ahead: " + expected.length());

            // the data streams are held: pg_dumpall must end all the same, its output drained by the worker that
            // took the globals first (queued last, it would wait on its full pipe, outside a transaction, for the data)
            CountDownLatch writing = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            ForwardingBackupContext<InMemoryBackup> held = ForwardingBackupContext.holdingDataStreams(new InMemoryBackup(2), writing,
                    release);
            Thread backup = new Thread(() -> source().backup(held));
            backup.start();
            try {
                assertTrue(writing.await(60, TimeUnit.SECONDS), "a data stream started");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (!ChildProcesses.named("pg_dumpall").isEmpty()) {
                    assertTrue(System.nanoTime() < deadline, "pg_dumpall ended while the data streams were held");
                    Thread.sleep(20);
                }
            } finally {
                release.countDown();
            }
            backup.join(TimeUnit.MINUTES.toMillis(2));
            assertFalse(backup.isAlive());
            InMemoryBackup ctx = held.inner;
            String stored = globalsOf(ctx);
            for (int i : new int[] {1, 12000, 24000}) {
                assertTrue(stored.contains("CREATE ROLE " + ROLE + i + ";"), "role " + i);
            }
            // the read-ahead and the rest of the pipe, joined: the stored globals are pg_dumpall's output
            assertEquals(expected.lines().filter(l -> l.startsWith("CREATE ROLE")).count(),
                    stored.lines().filter(l -> l.startsWith("CREATE ROLE")).count());
            assertEquals(expected.length(), stored.length());
        } finally {
            // in pieces: each dropped role holds a lock until its transaction ends
            pg.execute("postgres", "DO $$ BEGIN FOR i IN 1..24000 LOOP EXECUTE format('DROP ROLE %I', '" + ROLE + "' || i); "
                    + "IF i % 2000 = 0 THEN COMMIT; END IF; END LOOP; END $$");
        }
    }
}
