package io.backupkit.postgres;

import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.postgres.internal.wal.WalNames;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The asynchronous pusher and the prefetcher, on a synthetic data directory. */
class WalArchiverTest {
    static final long SYSID = 7312345678901234567L;

    @TempDir
    Path dir;
    Repository repo;
    Path data;
    Path pgWal;
    Path status;

    @BeforeEach
    void open() throws IOException {
        repo = Repository.builder().storage(LocalStorage.of(dir.resolve("repo")))
                .keyProvider(KeyProviders.password("pw".toCharArray(), 19 * 1024, 2, 1)).create();
        data = FakeWal.dataDirectory(dir.resolve("data"), SYSID);
        pgWal = data.resolve("pg_wal");
        status = pgWal.resolve("archive_status");
        Files.createDirectories(status);
    }

    @AfterEach
    void close() {
        repo.close();
    }

    void ready(long sysid, long... segments) throws IOException {
        for (long s : segments) {
            Path seg = FakeWal.writeSegment(pgWal, sysid, 1, s);
            Files.createFile(status.resolve(seg.getFileName() + ".ready"));
        }
    }

    @Test
    void pushesEveryReadySegment_thenMarksItDone() throws IOException {
        ready(SYSID, 3, 4, 5, 6, 7);
        try (WalArchiver a = WalArchiver.builder().repository(repo).dataDirectory(data).parallelism(3).build()) {
            assertEquals(5, a.pushReadyNow());
        }
        try (var s = Files.list(status)) {
            // the first is left for PostgreSQL, which may be running archive_command for it; its marker waits
            assertEquals(List.of("000000010000000000000003.ready", "000000010000000000000004.done", "000000010000000000000005.done",
                    "000000010000000000000006.done", "000000010000000000000007.done"), s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        assertEquals(WalArchiver.SpoolState.PUSHED,
                WalArchiver.consume(WalArchiver.defaultSpool(data), pgWal.resolve("000000010000000000000003")).state());
        WalContinuity c = WalArchive.of(repo).continuity(SYSID, 1, new Lsn(3 * FakeWal.SEGMENT_SIZE));
        assertFalse(c.hasGaps(), c.describe());
        assertEquals("000000010000000000000007", c.timelines().get(0).lastSegment());
    }

    /**
     * PostgreSQL's archiver got its answer for 3 (the archive command found 3's marker) and is about to
     * rename 3.ready and pick 4. A pusher that only asked "is an earlier file still ready?" renamed 4
     * under it (WalCrashIT once saw PostgreSQL's "could not open file pg_wal/archive_status/….ready").
     */
    @Test
    void aFileConfirmedToPostgres_butNotYetRenamed_doesNotShieldTheNextOne() throws IOException {
        ready(SYSID, 3);
        Path spool = WalArchiver.defaultSpool(data);
        try (WalArchiver a = WalArchiver.builder().repository(repo).dataDirectory(data).build()) {
            assertEquals(1, a.pushReadyNow());
            assertTrue(Files.exists(status.resolve("000000010000000000000003.ready")), "PostgreSQL's to archive");
            // archive_command for 3 answers "archived"; PostgreSQL has not renamed 3.ready yet
            assertEquals(WalArchiver.SpoolState.PUSHED, WalArchiver.consume(spool, pgWal.resolve("000000010000000000000003")).state());
            ready(SYSID, 4, 5, 6);
            assertEquals(3, a.pushReadyNow());
        }
        try (var s = Files.list(status)) {
            assertEquals(List.of("000000010000000000000003.ready", "000000010000000000000004.ready", "000000010000000000000005.done",
                            "000000010000000000000006.done"), s.map(p -> p.getFileName().toString()).sorted().toList(),
                    "3 is PostgreSQL's to rename, 4 the file it picks next");
        }
    }

    /**
     * PostgreSQL's archiver, step by step as pgarch.c does it (archive_command, rename to .done, pick the
     * next ready file, archive_command, rename), moves on exactly while the pusher decides to rename 4:
     * PostgreSQL's renames never find their .ready file gone.
     */
    @Test
    void postgresMovingOnWhileThePusherRenames_neverLosesARenameOfItsOwn() throws Exception {
        ready(SYSID, 3);
        Path spool = WalArchiver.defaultSpool(data);
        java.util.concurrent.atomic.AtomicReference<String> picked = new java.util.concurrent.atomic.AtomicReference<>();
        List<String> renameFailures = new java.util.concurrent.CopyOnWriteArrayList<>();
        Thread[] postgres = new Thread[1];
        try (WalArchiver a = WalArchiver.builder().repository(repo).dataDirectory(data).build()) {
            assertEquals(1, a.pushReadyNow());
            ready(SYSID, 4);
            a.beforeRename = name -> {
                // the pusher has decided: now PostgreSQL's archive_command for 3 gets its answer and the
                // archiver moves on, as far as it can before the pusher renames
                postgres[0] = new Thread(() -> {
                    archiveCommand(spool, "000000010000000000000003");
                    renameDone("000000010000000000000003", renameFailures);
                    picked.set(nextReady().orElse("none"));
                }, "postgres-archiver");
                postgres[0].start();
                long deadline = System.nanoTime() + 30_000_000_000L;
                while (picked.get() == null && postgres[0].getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                }
            };
            assertEquals(1, a.pushReadyNow());
            a.beforeRename = null;
            postgres[0].join(30_000);
            // PostgreSQL archives the file it picked, then renames it
            if (!picked.get().equals("none")) {
                archiveCommand(spool, picked.get());
                renameDone(picked.get(), renameFailures);
            }
        }
        assertEquals(List.of(), renameFailures, "PostgreSQL's renames of its own .ready files");
        try (var s = Files.list(status)) {
            assertEquals(List.of("000000010000000000000003.done", "000000010000000000000004.done"),
                    s.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    private void archiveCommand(Path spool, String name) {
        assertEquals(WalArchiver.SpoolState.PUSHED, WalArchiver.consume(spool, pgWal.resolve(name)).state(), name);
    }

    private void renameDone(String name, List<String> failures) {
        try {
            Files.move(status.resolve(name + ".ready"), status.resolve(name + ".done"));
        } catch (IOException e) {
            failures.add(name + ": " + e);
        }
    }

    private java.util.Optional<String> nextReady() {
        try (var s = Files.list(status)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".ready")).sorted().findFirst()
                    .map(n -> n.substring(0, n.length() - ".ready".length()));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void withoutMarkDone_theArchiveCommandFindsAVerifiedMarker() throws IOException {
        ready(SYSID, 3, 4);
        Path spool = WalArchiver.defaultSpool(data);
        try (WalArchiver a = WalArchiver.builder().repository(repo).dataDirectory(data).markDone(false).build()) {
            assertEquals(2, a.pushReadyNow());
        }
        assertTrue(Files.exists(status.resolve("000000010000000000000003.ready")), "left for PostgreSQL");
        Path seg3 = pgWal.resolve("000000010000000000000003");
        assertEquals(WalArchiver.SpoolState.PUSHED, WalArchiver.consume(spool, seg3).state());
        assertEquals(WalArchiver.SpoolState.PUSHED, WalArchiver.consume(spool, seg3).state(), "asking again (a retry) is answered again");
        // a marker for other content of the same name is not trusted
        Path seg4 = pgWal.resolve("000000010000000000000004");
        byte[] b = Files.readAllBytes(seg4);
        b[100] ^= 1;
        Files.write(seg4, b);
        assertEquals(WalArchiver.SpoolState.UNKNOWN, WalArchiver.consume(spool, seg4).state());
    }

    @Test
    void aSegmentOfAnotherCluster_isReportedAsFailedNotPushed() throws IOException {
        ready(7399999999999999999L, 3);
        Path spool = WalArchiver.defaultSpool(data);
        try (WalArchiver a = WalArchiver.builder().repository(repo).dataDirectory(data).build()) {
            assertEquals(0, a.pushReadyNow());
            assertEquals(1, a.status().failures());
        }
        WalArchiver.SpoolStatus st = WalArchiver.consume(spool, pgWal.resolve("000000010000000000000003"));
        assertEquals(WalArchiver.SpoolState.FAILED, st.state());
        assertTrue(st.message().contains("belongs to another cluster"), st.message());
        assertTrue(Files.exists(status.resolve("000000010000000000000003.ready")), "not marked done");
        assertTrue(WalArchive.of(repo).systemIds().isEmpty());
    }

    @Test
    void onlyOnePusherPerSpool() throws IOException {
        try (WalArchiver a = WalArchiver.builder().repository(repo).dataDirectory(data).build().start()) {
            assertTrue(WalArchiver.isRunning(WalArchiver.defaultSpool(data)));
            WalArchiver b = WalArchiver.builder().repository(repo).dataDirectory(data).build();
            assertFalse(b.runUntilIdle(), "a second pusher does not run");
        }
        assertFalse(WalArchiver.isRunning(WalArchiver.defaultSpool(data)));
    }

    @Test
    void onlyOnePrefetcherPerSpool_andItsLockGoesWithIt() throws Exception {
        WalArchive wal = WalArchive.of(repo);
        wal.push(FakeWal.writeSegment(pgWal, SYSID, 1, 1));
        Path spool = dir.resolve("prefetch");
        WalPrefetcher first = WalPrefetcher.builder().walArchive(wal).systemId(SYSID).spool(spool).idleExit(Duration.ofMinutes(10)).build();
        java.util.concurrent.atomic.AtomicBoolean firstRan = new java.util.concurrent.atomic.AtomicBoolean();
        Thread t = new Thread(() -> firstRan.set(first.runUntilIdle()), "prefetcher");
        t.start();
        try {
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
            while (!WalPrefetcher.isRunning(spool)) {
                assertTrue(System.nanoTime() < deadline, "the prefetcher never took its lock");
                Thread.sleep(20);
            }
            WalPrefetcher second = WalPrefetcher.builder().walArchive(wal).systemId(SYSID).spool(spool).idleExit(Duration.ofMillis(1)).build();
            assertFalse(second.runUntilIdle(), "a second prefetcher does not run");
        } finally {
            t.interrupt(); // ends the first one's idle wait
            t.join(60_000);
        }
        assertFalse(t.isAlive());
        assertTrue(firstRan.get());
        assertFalse(WalPrefetcher.isRunning(spool), "the lock is released when the prefetcher returns");
    }

    @Test
    void prefetcher_keepsTheNextSegmentsInTheSpool_andFollowsConsumption() throws IOException {
        WalArchive wal = WalArchive.of(repo);
        for (long s = 1; s <= 12; s++) {
            wal.push(FakeWal.writeSegment(pgWal, SYSID, 1, s));
        }
        Path spool = dir.resolve("prefetch");
        WalPrefetcher p = WalPrefetcher.builder().walArchive(wal).systemId(SYSID).spool(spool).ahead(4).build();
        WalPrefetcher.requested(spool, "000000010000000000000002");
        assertEquals(4, p.fill());
        assertEquals(List.of("000000010000000000000003", "000000010000000000000004", "000000010000000000000005",
                "000000010000000000000006"), segmentsIn(spool));
        Path dest = dir.resolve("RECOVERYXLOG");
        assertTrue(WalPrefetcher.take(spool, "000000010000000000000003", dest));
        assertEquals(Files.size(pgWal.resolve("000000010000000000000003")), Files.size(dest));
        assertTrue(WalPrefetcher.take(spool, "000000010000000000000004", dest));
        assertFalse(WalPrefetcher.take(spool, "000000010000000000000009", dest));
        // taken without a request (shell fast path): the window still moves on
        assertEquals(2, p.fill());
        assertEquals(List.of("000000010000000000000005", "000000010000000000000006", "000000010000000000000007",
                "000000010000000000000008"), segmentsIn(spool));
        // a jump (another timeline, or a retry further back) restarts the window there
        WalPrefetcher.requested(spool, "00000001000000000000000A");
        p.fill();
        assertEquals(List.of("00000001000000000000000B", "00000001000000000000000C"), segmentsIn(spool), "only what exists");
    }

    static List<String> segmentsIn(Path spool) throws IOException {
        try (var s = Files.list(spool)) {
            return s.map(x -> x.getFileName().toString()).filter(n -> WalNames.kind(n) == WalNames.Kind.SEGMENT).sorted().toList();
        }
    }
}
