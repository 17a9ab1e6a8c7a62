package io.backupkit.postgres;

import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.postgres.internal.wal.WalNames;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The streaming receiver against a real server: segments, partials, restarts, timelines. */
class WalReceiverIT {
    @TempDir
    Path dir;
    EphemeralPostgres pg;
    Repository repo;

    @BeforeEach
    void start() {
        pg = EphemeralPostgres.builder().setting("wal_level", "replica").setting("max_wal_senders", "10").start();
        repo = Repository.builder().storage(LocalStorage.of(dir.resolve("repo")))
                .keyProvider(KeyProviders.password("pw".toCharArray(), 8 * 1024, 1, 1)).create();
    }

    @AfterEach
    void stop() {
        repo.close();
        pg.close();
    }

    WalReceiver.Builder receiver() {
        return WalReceiver.builder().repository(repo).url(pg.jdbcUrl("postgres")).user(pg.user()).password(pg.password().toCharArray())
                .slot("backupkit").createSlot(true).partialInterval(Duration.ofMillis(500)).statusInterval(Duration.ofSeconds(1))
                .reconnectDelay(Duration.ofMillis(200), Duration.ofSeconds(2));
    }

    Lsn currentLsn() {
        return Lsn.parse(pg.queryForString("postgres", "SELECT pg_current_wal_lsn()"));
    }

    Lsn switchWal() {
        pg.execute("postgres", "SELECT pg_switch_wal()");
        return currentLsn();
    }

    long systemId() {
        return Long.parseUnsignedLong(pg.queryForString("postgres", "SELECT system_identifier FROM pg_control_system()"));
    }

    @Test
    void streamsWholeSegments_andAcknowledgesOnlyWhatIsStored() {
        try (WalReceiver r = receiver().build().start()) {
            Lsn startedAt = currentLsn();
            pg.execute("postgres", "CREATE TABLE t (id int, v text); INSERT INTO t SELECT i, repeat('x', 100) FROM generate_series(1, 50000) i");
            Lsn end = switchWal();
            assertTrue(r.awaitStored(end, Duration.ofSeconds(60)), () -> "stored up to " + end + ": " + r.status());
            WalArchive wal = WalArchive.of(repo);
            long sysid = systemId();
            assertEquals(List.of(sysid), wal.systemIds());
            WalContinuity c = wal.continuity(sysid, 1, startedAt);
            assertFalse(c.hasGaps(), c.describe());
            assertFalse(c.timelines().get(0).contiguousTo().isBefore(end), c.describe());
            // the slot's restart position never passes what the archive holds
            Lsn restart = Lsn.parse(pg.queryForString("postgres", "SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = 'backupkit'"));
            assertFalse(restart.isAfter(c.timelines().get(0).contiguousTo()), restart + " vs " + c.describe());
            assertTrue(r.status().segmentsStored() >= 1, r.status().toString());
        }
    }

    @Test
    void storesAPartialSegmentWithinTheInterval_soACommitIsInTheArchiveWithinSeconds() throws Exception {
        try (WalReceiver r = receiver().build().start()) {
            pg.execute("postgres", "CREATE TABLE rpo (id int)");
            pg.execute("postgres", "INSERT INTO rpo VALUES (42)");
            Lsn commit = currentLsn();
            assertTrue(r.awaitStored(commit, Duration.ofSeconds(30)), () -> r.status().toString());
            long sysid = systemId();
            WalArchive wal = WalArchive.of(repo);
            String segment = WalNames.segmentOf(1, commit, 16 * 1024 * 1024);
            Path dest = dir.resolve("seg");
            WalArchive.FetchResult f = wal.fetch(sysid, segment, dest);
            assertEquals(WalArchive.FetchStatus.FOUND_PARTIAL, f.status());
            assertTrue(f.validBytes() >= commit.segmentOffset(16 * 1024 * 1024), f + " vs " + commit);
        }
    }
}
