package io.backupkit.postgres;

import io.backupkit.BackupResult;
import io.backupkit.ConfigurationException;
import io.backupkit.postgres.internal.physical.PhysicalMetadata;
import io.backupkit.postgres.internal.wal.WalNames;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Targets the archived WAL cannot reach are refused before anything is written, and the message says
 * the recoverable window (acceptance 6 of issue 10; the non-empty data directory is in
 * {@link PhysicalBackupIT}, the forked timeline in {@link TimelinesIT}).
 */
class PointInTimeErrorsIT {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS 'UTC'").withZone(ZoneOffset.UTC);
    static PhysicalFixture fx;
    static Path spool;
    static EphemeralPostgres pg;
    static long systemId;
    static Instant beforeBackup;
    static BackupResult base;
    static Instant lastWrite;

    @BeforeAll
    static void start() {
        fx = new PhysicalFixture();
        spool = fx.path("archive");
        pg = fx.startArchiving(spool);
        systemId = PhysicalFixture.systemId(pg);
        pg.createDatabase("app");
        pg.execute("app", "CREATE TABLE t (id int PRIMARY KEY)");
        beforeBackup = PhysicalFixture.serverNow(pg);
        base = fx.backup(PhysicalFixture.source(pg).build());
        // three more segments of WAL, so a segment can go missing in the middle
        for (int i = 0; i < 3; i++) {
            pg.execute("app", "INSERT INTO t VALUES (" + i + ")");
            PhysicalFixture.switchAndWaitArchived(pg, spool);
        }
        pg.execute("app", "INSERT INTO t VALUES (100)");
        lastWrite = PhysicalFixture.serverNow(pg);
        PhysicalFixture.switchAndWaitArchived(pg, spool);
        fx.pushSpool(spool, systemId);
    }

    @AfterAll
    static void stop() {
        pg.close();
        fx.close();
    }

    private static PhysicalMetadata meta() {
        return PhysicalMetadata.of(base.snapshot());
    }

    private static String windowStart() {
        return TIME.format(meta().stopTime()) + " (" + meta().stopLsn() + ", when the backup ended)";
    }

    @Test
    void aTimeAfterTheLastArchivedCommit_isRefusedWithTheWindow() {
        Instant late = lastWrite.plus(Duration.ofHours(1));
        Path pgdata = fx.path("late/data");
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> fx.restore("latest",
                PostgresDataDirectoryTarget.builder().pgdata(pgdata).recoveryTarget(RecoveryTarget.time(late)).build()));
        Matcher m = Pattern.compile("target time (.+ UTC) is outside the recoverable window: the recoverable window of base backup "
                + base.snapshot().shortId() + " is " + Pattern.quote(windowStart()) + " to (\\S+ \\S+ UTC) \\(the last archived commit; "
                + "WAL up to [0-9A-F]+/[0-9A-F]+\\) on timeline 1\\. Use latest to replay everything archived").matcher(e.getMessage());
        assertTrue(m.matches(), e.getMessage());
        assertEquals(TIME.format(late), m.group(1));
        Instant end = Instant.from(TIME.parse(m.group(2)));
        assertTrue(!end.isAfter(lastWrite) && end.isAfter(lastWrite.minusSeconds(5)), "the window ends at the last commit: " + end);
        assertFalse(Files.exists(pgdata) || Files.exists(fx.path("late/data.backupkit")), "nothing was written");
    }

    @Test
    void aTimeBeforeTheBaseBackupEnded_isRefused_withTheSnapshotGiven_orByLatest() {
        Path pgdata = fx.path("early/data");
        ConfigurationException given = assertThrows(ConfigurationException.class, () -> fx.restore(base.snapshotId(),
                PostgresDataDirectoryTarget.builder().pgdata(pgdata).recoveryTarget(RecoveryTarget.time(beforeBackup)).build()));
        assertTrue(given.getMessage().startsWith("target time " + TIME.format(beforeBackup) + " is before base backup "
                + base.snapshot().shortId() + " was consistent (" + TIME.format(meta().stopTime()) + "): restore an older base backup "
                + "(or let backupkit choose with 'latest'); the recoverable window of base backup " + base.snapshot().shortId() + " is "
                + windowStart() + " to "), given.getMessage());
        ConfigurationException latest = assertThrows(ConfigurationException.class, () -> fx.restore("latest",
                PostgresDataDirectoryTarget.builder().pgdata(pgdata).recoveryTarget(RecoveryTarget.time(beforeBackup)).build()));
        assertEquals("no base backup in " + fx.repo.location() + " can recover to " + RecoveryTarget.time(beforeBackup) + ": "
                + base.snapshot().shortId() + " ended "
                + DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC).format(meta().stopTime())
                + ", after the target", latest.getMessage());
        assertFalse(Files.exists(pgdata));
    }

    @Test
    void anLsnOutsideTheWindow_isRefused() {
        Path pgdata = fx.path("lsn/data");
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> fx.restore(base.snapshotId(),
                PostgresDataDirectoryTarget.builder().pgdata(pgdata).recoveryTarget(RecoveryTarget.lsn("FF/0")).build()));
        assertTrue(e.getMessage().startsWith("target LSN FF/0 is outside the recoverable window: the recoverable window of base backup "
                + base.snapshot().shortId() + " is " + windowStart() + " to "), e.getMessage());
    }

    @Test
    void aSegmentMissingInTheMiddle_isNamed_andLatestIsRefused() {
        // a second repository with the same WAL, one segment of which then disappears
        try (PhysicalFixture other = new PhysicalFixture()) {
            BackupResult b = other.backup(PhysicalFixture.source(pg).build());
            pg.execute("app", "INSERT INTO t VALUES (200)");
            PhysicalFixture.switchAndWaitArchived(pg, spool);
            pg.execute("app", "INSERT INTO t VALUES (201)");
            PhysicalFixture.switchAndWaitArchived(pg, spool);
            pg.execute("app", "INSERT INTO t VALUES (202)");
            PhysicalFixture.switchAndWaitArchived(pg, spool);
            other.pushSpool(spool, systemId);
            PhysicalMetadata m = PhysicalMetadata.of(b.snapshot());
            long next = PhysicalMetadata.lastSegment(m.stopLsn(), m.walSegmentSize()) + 1;
            String missing = WalNames.segmentName(1, next, m.walSegmentSize());
            String after = WalNames.segmentName(1, next + 1, m.walSegmentSize());
            other.repo.storage().delete("wal/" + Long.toUnsignedString(systemId) + "/00000001/" + missing);

            Path pgdata = other.path("gap/data");
            ConfigurationException e = assertThrows(ConfigurationException.class, () -> other.restore(b.snapshotId(),
                    PostgresDataDirectoryTarget.builder().pgdata(pgdata).build()));
            assertTrue(e.getMessage().startsWith("WAL segment " + missing + " is missing from the repository's archive while later WAL ("
                    + after + ") exists: recovery cannot get past it, and replaying to the latest WAL would silently stop there. "
                    + "Restore to a target before " + WalNames.segmentStart(missing, m.walSegmentSize()) + " or put the segment back; "
                    + "the recoverable window of base backup " + b.snapshot().shortId() + " is "), e.getMessage());
            assertFalse(Files.exists(pgdata));
        }
    }
}
