package io.backupkit.postgres;

import io.backupkit.BackupResult;
import io.backupkit.ConfigurationException;
import io.backupkit.RestoreResult;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Point-in-time recovery under a running pgbench load (acceptance 1 of issue 10): a base backup
 * while pgbench writes, WAL through archive_command, then restores to a moment between two known
 * commits and to the latest WAL, each compared table by table with the digest taken at that moment.
 */
class PointInTimeRecoveryIT {
    static PhysicalFixture fx;
    static Path spool;
    static EphemeralPostgres pg;
    static long systemId;

    @BeforeAll
    static void start() {
        fx = new PhysicalFixture();
        spool = fx.path("archive");
        pg = fx.startArchiving(spool);
        systemId = PhysicalFixture.systemId(pg);
        pg.createDatabase("bench");
        pg.runTool("pgbench", "-i", "-s", "3", "-q", "bench");
        pg.execute("bench", "CREATE TABLE marks (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())");
    }

    @AfterAll
    static void stop() {
        pg.close();
        fx.close();
    }

    private static Map<String, String> digest(EphemeralPostgres server) {
        return new TreeMap<>(DbDigest.tables(server, "bench"));
    }

    private static Process pgbench(int seconds) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(pg.binDirectory().orElseThrow().resolve("pgbench").toString(), "-c", "4", "-T",
                Integer.toString(seconds), "-n", "bench").redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().putAll(Map.of("PGHOST", pg.host(), "PGPORT", Integer.toString(pg.port()), "PGUSER", pg.user(),
                "PGPASSWORD", pg.password()));
        return pb.start();
    }

    private static long historyRows() {
        return Long.parseLong(pg.queryForString("bench", "SELECT count(*) FROM pgbench_history"));
    }

    private static void waitForMoreCommits(long atLeast) throws InterruptedException {
        long target = historyRows() + atLeast;
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (historyRows() < target) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("pgbench made no progress");
            }
            Thread.sleep(50);
        }
    }

    /**
     * Stops every pgbench writer at a commit boundary (they queue on the table locks), takes the
     * digest of that state and the server time, then lets them go on: every commit before holds an
     * earlier timestamp, every commit after a later one.
     */
    private static Object[] freeze() throws Exception {
        try (Connection c = pg.connect("bench"); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("LOCK TABLE pgbench_accounts, pgbench_tellers, pgbench_branches, pgbench_history IN EXCLUSIVE MODE");
            if (pg.queryForString("bench", "SELECT to_regclass('marks')") != null) {
                st.execute("LOCK TABLE marks IN EXCLUSIVE MODE");
            }
            Map<String, String> d = digest(pg);
            Instant t = PhysicalFixture.serverNow(pg);
            c.commit();
            return new Object[]{d, t};
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void underPgbenchLoad_restoreToATimeBetweenTwoCommits_andToTheLatest_equalTheDigestsTakenThen() throws Exception {
        Process load = pgbench(600);
        try {
            waitForMoreCommits(200);
            BackupResult base = fx.backup(PhysicalFixture.source(pg).build());
            pg.execute("bench", "INSERT INTO marks (id) VALUES (1)");
            waitForMoreCommits(500);
            Object[] frozen = freeze();
            pg.execute("bench", "INSERT INTO marks (id) VALUES (2)");
            waitForMoreCommits(500);
            Instant before = Instant.parse(pg.queryForString("bench", "SELECT to_char(at AT TIME ZONE 'UTC', "
                    + "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM marks WHERE id = 1"));
            Instant after = Instant.parse(pg.queryForString("bench", "SELECT to_char(at AT TIME ZONE 'UTC', "
                    + "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM marks WHERE id = 2"));
            Instant t = (Instant) frozen[1];
            assertTrue(before.isBefore(t) && t.isBefore(after), "the target lies between the two marker commits");
            load.destroy();
            load.waitFor();
            pg.execute("bench", "INSERT INTO marks (id) VALUES (3)");
            Map<String, String> last = digest(pg);
            PhysicalFixture.switchAndWaitArchived(pg, spool);
            assertTrue(fx.pushSpool(spool, systemId) > 0);
            long archived = Files.list(spool).count();

            Path pgdata = fx.dir("to-time").resolve("data");
            RestoreResult r = fx.restore("latest", PostgresDataDirectoryTarget.builder().pgdata(pgdata)
                    .recoveryTarget(RecoveryTarget.time(t)).targetAction(RecoveryTargetAction.PROMOTE).build());
            assertEquals(base.snapshotId(), r.snapshotId(), "the only base backup before the target");
            try (EphemeralPostgres restored = PhysicalFixture.startRestored(pg, pgdata)) {
                PhysicalBackupIT.waitForPromotion(restored);
                assertEquals(frozen[0], digest(restored));
                assertEquals(List.of(List.of("1")), restored.query("bench", "SELECT id FROM marks ORDER BY id"));
            }

            Path latest = fx.dir("to-latest").resolve("data");
            fx.restore("latest", PostgresDataDirectoryTarget.builder().pgdata(latest).build());
            try (EphemeralPostgres restored = PhysicalFixture.startRestored(pg, latest)) {
                PhysicalBackupIT.waitForPromotion(restored);
                assertEquals(last, digest(restored));
            }
            assertEquals(archived, Files.list(spool).count(), "the restored copies archived nothing into the source's archive");
        } finally {
            load.destroyForcibly();
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void withWalReceiveInsteadOfArchiveCommand_restoreToATimeAndToTheLatest_equalTheDigestsTakenThen() throws Exception {
        try (PhysicalFixture own = new PhysicalFixture();
             EphemeralPostgres streamed = EphemeralPostgres.builder().setting("max_wal_senders", "4").setting("max_connections", "40").start()) {
            streamed.createDatabase("bench");
            streamed.runTool("pgbench", "-i", "-s", "2", "-q", "bench");
            EphemeralPostgres saved = pg;
            pg = streamed;
            try (WalReceiver receiver = WalReceiver.builder().repository(own.repo).url(streamed.jdbcUrl("postgres")).user(streamed.user())
                    .password(streamed.password().toCharArray()).slot("backupkit_it").createSlot(true)
                    .partialInterval(java.time.Duration.ofSeconds(1)).build().start()) {
                Process load = pgbench(600);
                Object[] frozen;
                Map<String, String> last;
                try {
                    waitForMoreCommits(200);
                    own.backup(PhysicalFixture.source(streamed).build());
                    waitForMoreCommits(500);
                    frozen = freeze();
                    waitForMoreCommits(500);
                } finally {
                    load.destroy();
                    load.waitFor();
                }
                last = digest(streamed);
                Lsn end = Lsn.parse(streamed.queryForString("postgres", "SELECT pg_current_wal_lsn()::text"));
                assertTrue(receiver.awaitStored(end, java.time.Duration.ofMinutes(2)), "the receiver stored the WAL up to " + end);

                Path toTime = own.dir("streamed-time").resolve("data");
                own.restore("latest", PostgresDataDirectoryTarget.builder().pgdata(toTime).recoveryTarget(RecoveryTarget.time((Instant) frozen[1]))
                        .targetAction(RecoveryTargetAction.PROMOTE).build());
                try (EphemeralPostgres restored = PhysicalFixture.startRestored(streamed, toTime)) {
                    PhysicalBackupIT.waitForPromotion(restored);
                    assertEquals(frozen[0], digest(restored));
                }
                Path toLatest = own.dir("streamed-latest").resolve("data");
                own.restore("latest", PostgresDataDirectoryTarget.builder().pgdata(toLatest).build());
                try (EphemeralPostgres restored = PhysicalFixture.startRestored(streamed, toLatest)) {
                    PhysicalBackupIT.waitForPromotion(restored);
                    assertEquals(last, digest(restored), "the latest state, up to the partial segment the receiver stored");
                }
            } finally {
                pg = saved;
            }
        }
    }

    @Test
    void restorePointAndTransactionTargets_stopThere_andAnUnknownRestorePointIsRefused() throws Exception {
        fx.backup(PhysicalFixture.source(pg).build());
        pg.execute("bench", "INSERT INTO marks (id) VALUES (100)");
        pg.execute("bench", "SELECT pg_create_restore_point('before_101')");
        String xid;
        try (Connection c = pg.connect("bench"); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("INSERT INTO marks (id) VALUES (101)");
            var rs = st.executeQuery("SELECT pg_current_xact_id()::text");
            rs.next();
            xid = rs.getString(1);
            c.commit();
        }
        pg.execute("bench", "INSERT INTO marks (id) VALUES (102)");
        PhysicalFixture.switchAndWaitArchived(pg, spool);
        fx.pushSpool(spool, systemId);

        Path byName = fx.dir("by-name").resolve("data");
        fx.restore("latest", PostgresDataDirectoryTarget.builder().pgdata(byName).recoveryTarget(RecoveryTarget.name("before_101"))
                .targetAction(RecoveryTargetAction.PROMOTE).build());
        try (EphemeralPostgres restored = PhysicalFixture.startRestored(pg, byName)) {
            PhysicalBackupIT.waitForPromotion(restored);
            assertEquals("100", restored.queryForString("bench", "SELECT max(id) FROM marks WHERE id >= 100"));
        }
        Path byXid = fx.dir("by-xid").resolve("data");
        fx.restore("latest", PostgresDataDirectoryTarget.builder().pgdata(byXid).recoveryTarget(RecoveryTarget.xid(Long.parseLong(xid)))
                .targetAction(RecoveryTargetAction.PROMOTE).build());
        try (EphemeralPostgres restored = PhysicalFixture.startRestored(pg, byXid)) {
            PhysicalBackupIT.waitForPromotion(restored);
            assertEquals("101", restored.queryForString("bench", "SELECT max(id) FROM marks WHERE id >= 100"));
        }
        Path unknown = fx.path("unknown-name/data");
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> fx.restore("latest",
                PostgresDataDirectoryTarget.builder().pgdata(unknown).recoveryTarget(RecoveryTarget.name("no_such_point")).build()));
        assertTrue(e.getMessage().startsWith("restore point 'no_such_point' is not in the archived WAL from "), e.getMessage());
        assertTrue(!Files.exists(unknown) && !Files.exists(fx.path("unknown-name/data.backupkit")), "nothing is left behind");
    }
}
