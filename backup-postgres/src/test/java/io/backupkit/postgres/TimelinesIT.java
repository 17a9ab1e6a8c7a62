package io.backupkit.postgres;

import io.backupkit.BackupResult;
import io.backupkit.ConfigurationException;
import io.backupkit.RestoreResult;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Timelines (acceptance 3 of issue 10): a point-in-time restore that promotes starts timeline 2; the
 * restored server goes on writing and archiving into the same repository; a second point-in-time
 * restore onto timeline 2 gets exactly timeline 2's history; a base backup taken on timeline 1 after
 * the fork cannot reach timeline 2 and is refused (and "latest" skips it).
 */
class TimelinesIT {
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
        pg.createDatabase("app");
        pg.execute("app", "CREATE TABLE t (id int PRIMARY KEY, what text NOT NULL)");
    }

    @AfterAll
    static void stop() {
        pg.close();
        fx.close();
    }

    private static void insert(EphemeralPostgres server, int from, int to, String what) {
        server.execute("app", "INSERT INTO t SELECT i, '" + what + "' FROM generate_series(" + from + ", " + to + ") i");
    }

    private static List<String> groups(EphemeralPostgres server) {
        return server.query("app", "SELECT what || ':' || count(*) FROM t GROUP BY what ORDER BY what").stream().map(r -> r.get(0)).toList();
    }

    private static String timelineOf(EphemeralPostgres server) {
        return server.queryForString("postgres", "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)");
    }

    @Test
    void promoteCreatesTimelineTwo_aSecondRestoreReachesTimelineTwo_andABaseBackupOfTheForkedOffTimelineIsRefused() throws Exception {
        BackupResult a = fx.backup(PhysicalFixture.source(pg).build());
        insert(pg, 1, 10, "w1");
        Instant t1 = PhysicalFixture.serverNow(pg);
        insert(pg, 11, 20, "w2");
        PhysicalFixture.switchAndWaitArchived(pg, spool);
        fx.pushSpool(spool, systemId);

        // first PITR: back to t1, promote -> timeline 2
        Path d1 = fx.dir("first").resolve("data");
        // asked to keep archiving: the new timeline's history file is archived at promotion
        fx.restore("latest", PostgresDataDirectoryTarget.builder().pgdata(d1).recoveryTarget(RecoveryTarget.time(t1))
                .targetAction(RecoveryTargetAction.PROMOTE).archiving(true).build());
        Instant t2;
        try (EphemeralPostgres r = PhysicalFixture.startRestored(pg, d1)) {
            PhysicalBackupIT.waitForPromotion(r);
            assertEquals("00000002", timelineOf(r));
            assertEquals(List.of("w1:10"), groups(r));
            // it goes on writing, and archiving into the same repository
            insert(r, 100, 110, "w3");
            t2 = PhysicalFixture.serverNow(r);
            insert(r, 200, 210, "w4");
            PhysicalFixture.switchAndWaitArchived(r, spool);
        }
        // the original server goes on on timeline 1, and is backed up again after the fork
        insert(pg, 300, 310, "w2b");
        BackupResult c = fx.backup(PhysicalFixture.source(pg).build());
        PhysicalFixture.switchAndWaitArchived(pg, spool);
        fx.pushSpool(spool, systemId);

        // second PITR onto timeline 2: "latest" must skip base backup C (timeline 1, after the fork) and take A
        Path d2 = fx.dir("second").resolve("data");
        RestoreResult second = fx.restore("latest", PostgresDataDirectoryTarget.builder().pgdata(d2).recoveryTarget(RecoveryTarget.time(t2))
                .targetAction(RecoveryTargetAction.PROMOTE).build());
        assertEquals(a.snapshotId(), second.snapshotId());
        assertTrue(second.plan().actions().stream().anyMatch(x -> x.contains("on timeline 1 → 2")), second.plan().actions().toString());
        try (EphemeralPostgres r2 = PhysicalFixture.startRestored(pg, d2)) {
            PhysicalBackupIT.waitForPromotion(r2);
            assertEquals(List.of("w1:10", "w3:11"), groups(r2));
            assertEquals("00000003", timelineOf(r2));
        }

        // base backup C lies on timeline 1 after timeline 2 forked off: refused, saying where and why
        Map<Integer, TimelineHistory> histories = WalArchive.builder().repository(fx.repo).systemId(systemId).build().histories(systemId);
        Lsn fork = histories.get(2).switchPointOf(1).orElseThrow();
        Path d3 = fx.path("refused/data");
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> fx.restore(c.snapshotId(),
                PostgresDataDirectoryTarget.builder().pgdata(d3).recoveryTarget(RecoveryTarget.time(t2)).build()));
        String stop = (String) c.snapshot().metadata().get("stopLsn");
        assertEquals("timeline 2 forked from timeline 1 at " + fork + ", before base backup " + c.snapshot().shortId() + " was consistent ("
                + stop + " on timeline 1): its WAL cannot be replayed onto that backup. Use a base backup that ended before " + fork
                + ", or recover along timeline 1 (--timeline 1)", e.getMessage());
        // along timeline 1, base backup C restores fine
        Path d4 = fx.dir("along-one").resolve("data");
        fx.restore(c.snapshotId(), PostgresDataDirectoryTarget.builder().pgdata(d4).timeline("1").build());
        try (EphemeralPostgres r4 = PhysicalFixture.startRestored(pg, d4)) {
            PhysicalBackupIT.waitForPromotion(r4);
            assertEquals(List.of("w1:10", "w2:10", "w2b:11"), groups(r4));
        }
    }
}
