package io.backupkit.postgres;

import io.backupkit.Snapshot;
import io.backupkit.SnapshotStream;
import io.backupkit.postgres.internal.LogicalBackup;
import io.backupkit.postgres.internal.ToolRunner;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * pg_dumpall runs beside the catalog phase with its output read ahead: the globals are stored after
 * the data (no worker waits for pg_dumpall), and when its output is larger than the read-ahead
 * (tens of thousands of roles) they are stored whole, first, as before.
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

    /**
     * Whether the backup's pg_dumpall stays blocked writing to its pipe for half a second: nobody reads its
     * output any more, so the read-ahead is full.
     */
    private static boolean waitForPgDumpallBlockedOnItsPipe() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        int blockedFor = 0;
        while (System.nanoTime() < deadline && blockedFor < 5) {
            var dumpall = ProcessHandle.current().descendants().filter(p -> p.info().command().orElse("").endsWith("/pg_dumpall")).findFirst();
            boolean blocked = false;
            if (dumpall.isPresent()) {
                try {
                    blocked = Files.readString(Path.of("/proc/" + dumpall.get().pid() + "/wchan")).contains("pipe_write");
                } catch (IOException e) {
                    // it ended meanwhile
                }
            }
            blockedFor = blocked ? blockedFor + 1 : 0;
            Thread.sleep(100);
        }
        return blockedFor >= 5;
    }

    private static String globalsOf(InMemoryBackup ctx) {
        return new String(ctx.data(LogicalBackup.GLOBALS), StandardCharsets.UTF_8);
    }

    @Test
    void fewRoles_globalsAreStoredAfterTheData() {
        InMemoryBackup ctx = new InMemoryBackup(2);
        source().backup(ctx);
        List<String> order = streamOrder(ctx.snapshot(source()));
        assertTrue(order.indexOf(LogicalBackup.GLOBALS) > order.indexOf("data-0001")
                && order.indexOf(LogicalBackup.GLOBALS) > order.indexOf("data-0002"), "stored after the data: " + order);
        assertTrue(globalsOf(ctx).contains("CREATE ROLE " + pg.user()), globalsOf(ctx));
    }

    @Test
    void moreGlobalsThanTheReadAhead_areStoredWholeAndFirst() throws Exception {
        // 24,000 roles with long names: pg_dumpall writes ~4.8 MB, more than the 4 MiB read ahead
        pg.execute("postgres", "DO $$ BEGIN FOR i IN 1..24000 LOOP EXECUTE format('CREATE ROLE %I', '" + ROLE + "' || i); "
                + "IF i % 2000 = 0 THEN COMMIT; END IF; END LOOP; END $$");
        try {
            String expected = pg.runTool("pg_dumpall", "--globals-only", "--no-role-passwords", "--encoding=UTF8");
            assertTrue(expected.getBytes(StandardCharsets.UTF_8).length > LogicalBackup.GLOBALS_READ_AHEAD,
                    "the test's globals exceed the read-ahead: " + expected.length());

            // both workers held in their first data stream until pg_dumpall has filled the read-ahead and waits on its pipe
            CountDownLatch release = new CountDownLatch(1);
            ForwardingBackupContext<InMemoryBackup> held = ForwardingBackupContext.holdingDataStreams(new InMemoryBackup(2),
                    new CountDownLatch(1), release);
            Thread backup = new Thread(() -> source().backup(held));
            backup.start();
            try {
                assertTrue(waitForPgDumpallBlockedOnItsPipe(), "pg_dumpall waits on its pipe, the read-ahead full");
            } finally {
                release.countDown();
            }
            backup.join(TimeUnit.MINUTES.toMillis(2));
            assertFalse(backup.isAlive());
            InMemoryBackup ctx = held.inner;
            List<String> order = streamOrder(ctx.snapshot(source()));
            // promoted once the read-ahead was full: the first task a worker takes after its data stream
            assertEquals(LogicalBackup.GLOBALS, order.get(2), "stored as soon as a worker is free: " + order);
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
