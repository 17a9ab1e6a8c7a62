package io.backupkit.core;

import io.backupkit.BackupManager;
import io.backupkit.ForgetManager;
import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.PruneRefusedException;
import io.backupkit.PruneResult;
import io.backupkit.Repository;
import io.backupkit.RetentionPolicy;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.LockManager;
import io.backupkit.testkit.DigestTarget;
import io.backupkit.testkit.GeneratedSource;
import io.backupkit.testkit.InterceptingStorage;
import io.backupkit.testkit.PausedSource;
import io.backupkit.testkit.RandomData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Prune refuses what it cannot do safely (clock skew), needs no conditional writes, and orders by the store's times. */
class PruneSafetyTest {
    private static final long MIB = 1024 * 1024;

    @TempDir
    Path dir;

    private Repository repoWithGarbage(InterceptingStorage storage, Path keyFile) {
        Repository repo = Repository.builder().storage(storage).keyProvider(KeyProviders.keyFile(keyFile)).packSize((int) MIB).create();
        for (int i = 0; i < 3; i++) {
            long seed = i;
            BackupManager.builder().repository(repo).parallelism(2)
                    .source(new GeneratedSource().stream("s", () -> RandomData.stream(seed, 2 * MIB))).build().backup();
        }
        ForgetManager.builder().repository(repo).policy(RetentionPolicy.builder().keepLast(1).build()).build().forget();
        return repo;
    }

    @Test
    void hostClockFarFromTheStorages_isRefused_andNothingIsDeleted() throws Exception {
        Path keyFile = KeyProviders.generateKeyFile(dir.resolve("key"));
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = repoWithGarbage(storage, keyFile)) {
            // the storage's clock runs 40 minutes ahead of this host's
            storage.timeShift(Duration.ofMinutes(40));
            storage.reset();
            PruneRefusedException e = assertThrows(PruneRefusedException.class, () -> PruneTest.prune(repo).build().prune());
            assertTrue(e.getMessage().contains("this host's clock is 40 min behind the storage's") && e.getMessage().contains("NTP"),
                    e.getMessage());
            assertEquals(0, storage.requests("delete", "data/") + storage.requests("put", "index/"), storage.counters().toString());
            assertEquals(0, repo.storage().list("locks/").size(), "the refused prune released its lock");
            // within the bound, it runs
            storage.timeShift(Duration.ofSeconds(30));
            assertTrue(PruneTest.prune(repo).build().prune().packsDeleted() > 0);
        }
    }

    @Test
    void runningBackupOnAHostWithASkewedClock_makesPruneRefuse_namingThatHost() throws Exception {
        Path keyFile = KeyProviders.generateKeyFile(dir.resolve("key"));
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = repoWithGarbage(storage, keyFile)) {
            DefaultRepository d = (DefaultRepository) repo;
            // a backup on a host whose clock is two hours ahead: its lock records the skew it measured
            LockManager skewed = new LockManager(repo.storage(), d.sealer(), Clock.offset(Clock.systemUTC(), Duration.ofHours(2)));
            try (LockManager.Lock backup = skewed.acquire(false, "backup")) {
                storage.reset();
                PruneRefusedException e = assertThrows(PruneRefusedException.class, () -> PruneTest.prune(repo).build().prune());
                assertTrue(e.getMessage().contains("the clock of backup on ") && e.getMessage().contains("120 min ahead of"),
                        e.getMessage());
                assertTrue(e.holder().startsWith("backup on "), e.holder());
                assertEquals(0, storage.requests("delete", "data/"));
            }
            assertTrue(PruneTest.prune(repo).build().prune().packsDeleted() > 0);
        }
    }

    @Test
    void storeWithoutConditionalWrites_backupsAndPrunesStayCorrect() throws Exception {
        Path keyFile = KeyProviders.generateKeyFile(dir.resolve("key"));
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo"))).conditionalWrites(false);
        try (Repository repo = repoWithGarbage(storage, keyFile)) {
            String id = BackupManager.builder().repository(repo).parallelism(2)
                    .source(new GeneratedSource().stream("s", () -> RandomData.stream(2, 2 * MIB))).build().backup().snapshotId();
            PruneResult r = PruneTest.prune(repo).build().prune();
            assertTrue(r.packsDeleted() > 0, r.toString());
            assertEquals(DigestTarget.digestOf(RandomData.stream(2, 2 * MIB)).getKey(), Repos.restore(repo, id).digests().get("s"));
            assertTrue(repo.check().ok(), repo.check().errors().toString());
            PruneResult second = PruneTest.prune(repo).build().prune();
            assertEquals(0, second.packsDeleted(), second + " " + r);
        }
    }

    /**
     * S3PruneRaceIT lost a snapshot's blob list this way: a backup that starts after prune listed the locks
     * stores a pack and writes its index between prune's index listing and its data listing. The pack is
     * then unindexed for prune, and it is younger than prune, but the storage stamps it with a time of its
     * resolution (S3: whole seconds) that lay before prune's "now minus skew": prune deleted it as an orphan.
     * Here the storage's times are coarse enough that the whole test is one tick, so it is deterministic.
     */
    @Test
    void packOfABackupStartedWhilePruneRuns_onAStoreWithCoarseTimes_isNotDeletedAsAnOrphan() throws Exception {
        Path keyFile = KeyProviders.generateKeyFile(dir.resolve("key"));
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        try (Repository pruneHost = Repository.builder().storage(storage).keyProvider(KeyProviders.keyFile(keyFile)).packSize((int) MIB)
                .create();
             Repository backupHost = Repository.builder().storage(storage).keyProvider(KeyProviders.keyFile(keyFile)).open()) {
            storage.coarseTimes(Duration.ofMinutes(10));
            AtomicReference<Thread> pruneThread = new AtomicReference<>();
            AtomicReference<String> snapshot = new AtomicReference<>();
            storage.beforeList(prefix -> {
                if (Thread.currentThread() != pruneThread.get() || !"data/".equals(prefix) || snapshot.get() != null) {
                    return;
                }
                // prune has listed locks, snapshots and the index; a whole backup runs before it lists the packs
                try {
                    snapshot.set(CompletableFuture.supplyAsync(() -> BackupManager.builder().repository(backupHost).parallelism(2)
                            .source(new GeneratedSource().stream("s", () -> RandomData.stream(7, 3 * MIB))).build().backup()
                            .snapshotId()).get(5, TimeUnit.MINUTES));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            PruneResult r = CompletableFuture.supplyAsync(() -> {
                pruneThread.set(Thread.currentThread());
                return PruneTest.prune(pruneHost).build().prune();
            }).get(5, TimeUnit.MINUTES);
            storage.beforeList(prefix -> { });
            assertTrue(snapshot.get() != null, "the backup ran while prune ran");
            assertEquals(0, r.packsDeleted(), "prune deleted packs of the backup that ran meanwhile: " + r);
            assertEquals(DigestTarget.digestOf(RandomData.stream(7, 3 * MIB)).getKey(), Repos.restore(backupHost, snapshot.get()).digests()
                    .get("s"));
            assertTrue(pruneHost.check().ok(), pruneHost.check().errors().toString());
            // the pack is no orphan once indexed, and a later prune keeps it too
            assertEquals(0, PruneTest.prune(pruneHost).build().prune().packsDeleted());
        }
    }

    /**
     * An S3-compatible store whose HEAD answers whole seconds (an HTTP date: MinIO, Ceph, GCS) while its listings carry
     * milliseconds. Prune took the mark's time from a stat and compared it with the listed times of the locks: a
     * backup's lock written in the same second before the mark then looked newer than the mark (with a margin under a
     * second), and prune deleted the marked packs at once while that backup, which had read the index before the mark,
     * went on to reuse their blobs. Here stat times are coarse enough that the whole test is one tick (deterministic).
     */
    @Test
    void backupStartedBeforeTheMark_onAStoreWhoseStatTimesAreCoarserThanItsListings_keepsTheMarkedPacks() throws Exception {
        Path keyFile = KeyProviders.generateKeyFile(dir.resolve("key"));
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = Repository.builder().storage(storage).keyProvider(KeyProviders.keyFile(keyFile)).packSize((int) MIB)
                .create()) {
            Supplier<InputStream> data = () -> RandomData.stream(11, 3 * MIB);
            BackupManager.builder().repository(repo).parallelism(2).source(new GeneratedSource().stream("s", data)).build().backup();
            ForgetManager.builder().repository(repo).policy(RetentionPolicy.builder().keepTag("x", "y").build()).allowRemoveAll(true)
                    .build().forget();
            storage.coarseStatTimes(Duration.ofMinutes(10));
            // a backup of the same data takes its lock and reads the index (the blobs exist), then pauses
            PausedSource paused = new PausedSource(data);
            CompletableFuture<String> running = CompletableFuture.supplyAsync(() -> BackupManager.builder().repository(repo)
                    .parallelism(2).source(paused).build().backup().snapshotId());
            try {
                assertTrue(paused.started.await(1, TimeUnit.MINUTES));
                long packsBefore = repo.storage().list("data/").size();

                PruneResult first = PruneTest.prune(repo).build().prune();
                assertTrue(first.packsMarked() > 0, first.toString());
                assertEquals(0, first.packsDeleted(), "prune deleted packs a backup that started before the mark may reuse: " + first);
                assertEquals(first.packsMarked(), first.packsPending(), first.toString());
                assertTrue(first.pendingBecause().stream().anyMatch(s -> s.startsWith("backup on ")), first.pendingBecause().toString());
                assertEquals(packsBefore, repo.storage().list("data/").size());
            } finally {
                paused.release.countDown();
            }
            String id = running.get(2, TimeUnit.MINUTES);
            assertEquals(DigestTarget.digestOf(data.get()).getKey(), Repos.restore(repo, id).digests().get("s"));
            assertTrue(repo.check().ok(), repo.check().errors().toString());
            PruneResult second = PruneTest.prune(repo).build().prune();
            assertEquals(0, second.packsDeleted(), second.toString());
            assertTrue(second.packsResurrected() > 0, second.toString());
            assertEquals(DigestTarget.digestOf(data.get()).getKey(), Repos.restore(repo, id).digests().get("s"));
        }
    }
}
