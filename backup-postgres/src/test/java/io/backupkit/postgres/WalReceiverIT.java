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
                .keyProvider(KeyProviders.password("pw".toCharArray(), 19 * 1024, 2, 1)).create();
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

    @Test
    void socketTimeoutInTheUrl_doesNotBreakAnIdleStream() throws Exception {
        // pgjdbc 42.7.11-42.7.14 kill a replication stream whose socket read times out; the receiver must not
        String url = pg.jdbcUrl("postgres") + "?socketTimeout=1";
        try (WalReceiver r = receiver().url(url).statusInterval(Duration.ofMillis(300)).build().start()) {
            pg.execute("postgres", "CREATE TABLE idle (id int)");
            Lsn first = switchWal();
            assertTrue(r.awaitStored(first, Duration.ofSeconds(60)), () -> r.status().toString());
            Thread.sleep(4000); // idle for four socket timeouts and many status intervals
            pg.execute("postgres", "INSERT INTO idle SELECT generate_series(1, 1000)");
            Lsn second = switchWal();
            assertTrue(r.awaitStored(second, Duration.ofSeconds(60)), () -> r.status().toString());
            assertEquals(0, r.status().reconnects(), () -> "the stream survived idling without reconnecting: " + r.status());
        }
    }

    @Test
    void aServerKilledAndRestarted_isFollowedWithoutAGap() {
        long sysid = systemId();
        try (WalReceiver r = receiver().build().start()) {
            Lsn startedAt = currentLsn();
            pg.execute("postgres", "CREATE TABLE k (id int); INSERT INTO k SELECT generate_series(1, 20000)");
            Lsn before = currentLsn();
            assertTrue(r.awaitStored(before, Duration.ofSeconds(60)), () -> r.status().toString());
            pg.killHard();
            pg.restart();
            pg.execute("postgres", "INSERT INTO k SELECT generate_series(1, 20000)");
            Lsn after = switchWal();
            assertTrue(r.awaitStored(after, Duration.ofSeconds(120)), () -> r.status().toString());
            assertTrue(r.status().reconnects() >= 1, r.status().toString());
            WalContinuity c = WalArchive.of(repo).continuity(sysid, 1, startedAt);
            assertFalse(c.hasGaps(), c.describe());
        }
    }

    @Test
    void aRestartedReceiver_resumesFromTheArchiveWithoutAGap() {
        long sysid = systemId();
        Lsn startedAt;
        try (WalReceiver r = receiver().build().start()) {
            startedAt = currentLsn();
            pg.execute("postgres", "CREATE TABLE g (id int); INSERT INTO g SELECT generate_series(1, 20000)");
            Lsn l = currentLsn();
            assertTrue(r.awaitStored(l, Duration.ofSeconds(60)), () -> r.status().toString());
        }
        // WAL written while no receiver runs is kept by the slot
        for (int i = 0; i < 3; i++) {
            pg.execute("postgres", "INSERT INTO g SELECT generate_series(1, 20000)");
            switchWal();
        }
        try (WalReceiver r = receiver().createSlot(false).build().start()) {
            pg.execute("postgres", "INSERT INTO g SELECT generate_series(1, 1000)");
            Lsn end = switchWal();
            assertTrue(r.awaitStored(end, Duration.ofSeconds(60)), () -> r.status().toString());
        }
        WalContinuity c = WalArchive.of(repo).continuity(sysid, 1, startedAt);
        assertFalse(c.hasGaps(), c.describe());
        assertTrue(c.timelines().get(0).contiguousTo().isAfter(startedAt.plus(3L * 16 * 1024 * 1024)), c.describe());
    }

    @Test
    void aTimelineSwitch_isFollowed_andTheHistoryFileStored() {
        long sysid = systemId();
        try (WalReceiver r = receiver().build().start()) {
            Lsn startedAt = currentLsn();
            pg.execute("postgres", "CREATE TABLE tl (id int); INSERT INTO tl SELECT generate_series(1, 10000)");
            Lsn onOne = currentLsn();
            assertTrue(r.awaitStored(onOne, Duration.ofSeconds(60)), () -> r.status().toString());
            // end of archive recovery without an archive: the server promotes itself onto timeline 2
            pg.stopServer();
            pg.writeDataFile("recovery.signal", "");
            pg.appendAutoConf(java.util.Map.of("restore_command", "'false'"));
            pg.restart();
            awaitTrue(() -> "2".equals(pg.queryForString("postgres", "SELECT timeline_id FROM pg_control_checkpoint()")), 60);
            pg.execute("postgres", "INSERT INTO tl SELECT generate_series(1, 10000)");
            Lsn onTwo = switchWal();
            assertTrue(r.awaitStored(onTwo, Duration.ofSeconds(120)), () -> r.status().toString());
            assertEquals(2, r.status().timeline());
            WalArchive wal = WalArchive.of(repo);
            TimelineHistory h = wal.history(sysid, 2).orElseThrow();
            assertEquals(1, h.parent());
            WalContinuity c = wal.continuity(sysid, 1, startedAt);
            assertFalse(c.hasGaps(), c.describe());
            assertEquals(List.of(1, 2), c.timelines().stream().map(WalContinuity.TimelineRange::timeline).toList(), c.describe());
            assertFalse(c.timelines().get(0).contiguousTo().isBefore(h.branchPoint()), c.describe());
            assertTrue(c.timelines().get(1).complete(), c.describe());
        }
    }

    static void awaitTrue(java.util.function.BooleanSupplier condition, int seconds) {
        awaitTrue(condition, seconds, () -> "");
    }

    static void awaitTrue(java.util.function.BooleanSupplier condition, int seconds, java.util.function.Supplier<String> detail) {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
            } catch (RuntimeException e) {
                // server still starting
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        throw new AssertionError("condition not met within " + seconds + " s " + detail.get());
    }
}
