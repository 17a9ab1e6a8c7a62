package io.backupkit.core;

import io.backupkit.BackupManager;
import io.backupkit.CheckReport;
import io.backupkit.ConfigurationException;
import io.backupkit.ForgetManager;
import io.backupkit.ForgetResult;
import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.PruneManager;
import io.backupkit.PruneResult;
import io.backupkit.Repository;
import io.backupkit.RepositoryLockedException;
import io.backupkit.RetentionPolicy;
import io.backupkit.Snapshot;
import io.backupkit.VerificationLevel;
import io.backupkit.Verifier;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.LockManager;
import io.backupkit.spi.ObjectInfo;
import io.backupkit.testkit.DigestTarget;
import io.backupkit.testkit.DumpLikeData;
import io.backupkit.testkit.GeneratedSource;
import io.backupkit.testkit.InterceptingStorage;
import io.backupkit.testkit.PausedSource;
import io.backupkit.testkit.RandomData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Forget and prune on a real repository on disk (issue 11). */
class PruneTest {
    private static final long MIB = 1024 * 1024;

    @TempDir
    Path dir;

    private Path keyFile;

    private Repository create(InterceptingStorage storage) throws Exception {
        keyFile = KeyProviders.generateKeyFile(dir.resolve("key-" + System.nanoTime()));
        return Repository.builder().storage(storage).keyProvider(KeyProviders.keyFile(keyFile)).packSize((int) MIB)
                .chunkSizes(64 * 1024, 256 * 1024, 1024 * 1024).create();
    }

    static PruneManager.Builder prune(Repository repo) {
        // packs written a moment ago count as old: tests run faster than the storage's time resolution matters
        return PruneManager.builder().repository(repo).timeMargin(Duration.ZERO).uncommittedGrace(Duration.ZERO);
    }

    static long storedBytes(Repository repo) {
        return repo.storage().list("").stream().mapToLong(ObjectInfo::size).sum();
    }

    /** Stream {@code i} of a database that changes between backups: shared rows plus a few edits and new rows. */
    private static Supplier<InputStream> version(int i) {
        return () -> DumpLikeData.edited(1, 4 * MIB + i * 256 * 1024, 3 + i, 40 + i);
    }

    private static String digest(Supplier<InputStream> s) throws IOException {
        return DigestTarget.digestOf(s.get()).getKey();
    }

    private static String backup(Repository repo, Map<String, Supplier<InputStream>> streams) {
        GeneratedSource source = new GeneratedSource();
        streams.forEach(source::stream);
        return BackupManager.builder().repository(repo).parallelism(2).source(source).build().backup().snapshotId();
    }

    @Test
    void fourBackups_forgetKeepLast2_prune_twoRemain_repositoryShrinks_survivorsRestoreAndCheck() throws Exception {
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = create(storage)) {
            Map<String, Map<String, String>> digests = new HashMap<>();
            for (int i = 0; i < 4; i++) {
                Supplier<InputStream> a = version(i);
                // each backup also has 2 MiB of its own: forgetting two frees at least 4 MiB
                long seed = 1000 + i;
                Supplier<InputStream> b = () -> RandomData.stream(seed, 2 * MIB);
                String id = backup(repo, Map.of("a", a, "b", b));
                digests.put(id, Map.of("a", digest(a), "b", digest(b)));
            }
            // forget --prune --dry-run: the prune is simulated as if the forget had happened
            ForgetResult wouldForget = ForgetManager.builder().repository(repo).policy(RetentionPolicy.builder().keepLast(2).build())
                    .dryRun(true).build().forget();
            assertEquals(4, repo.snapshots().list().size(), "a dry run forgets nothing");
            PruneResult dryBoth = prune(repo).dryRun(true)
                    .assumeForgotten(wouldForget.removed().stream().map(io.backupkit.SnapshotSummary::id).toList()).build().prune();
            ForgetResult forgot = ForgetManager.builder().repository(repo).policy(RetentionPolicy.builder().keepLast(2).build())
                    .build().forget();
            assertEquals(2, forgot.removed().size());
            assertEquals(wouldForget.removed(), forgot.removed());
            long before = storedBytes(repo);
            PruneResult dry = prune(repo).dryRun(true).build().prune();
            assertTrue(dry.dryRun() && dry.bytesFreed() > 0, dry.toString());
            assertEquals(before, storedBytes(repo), "a dry run changes nothing");
            PruneResult r = prune(repo).build().prune();
            long after = storedBytes(repo);
            assertEquals(dry.packsDeleted(), r.packsDeleted(), "the dry run said exactly what goes: " + dry + " vs " + r);
            assertEquals(dry.bytesDeleted(), r.bytesDeleted());
            assertEquals(dry.packsRepacked(), r.packsRepacked());
            assertEquals(dryBoth.bytesDeleted(), r.bytesDeleted(), "forget --prune --dry-run said what forget --prune frees");
            assertEquals(dryBoth.packsDeleted(), r.packsDeleted());
            assertTrue(after < before, "the repository shrinks: " + before + " -> " + after + ", " + r);
            assertTrue(r.bytesFreed() > 4 * MIB, r.toString());
            assertEquals(0, r.packsPending(), r.toString());

            List<Snapshot> left = repo.snapshots().list();
            assertEquals(2, left.size());
            for (Snapshot s : left) {
                DigestTarget t = Repos.restore(repo, s.id());
                assertEquals(digests.get(s.id()), t.digests(), "snapshot " + s.shortId() + " restores as it was taken");
                assertTrue(Verifier.builder().repository(repo).snapshot(s.id()).level(VerificationLevel.STANDARD).build().verify().passed());
            }
            CheckReport check = repo.check();
            assertTrue(check.ok(), check.errors().toString());
            assertTrue(check.warnings().isEmpty(), check.warnings().toString());

            // a second prune finds nothing more to do
            storage.reset();
            PruneResult again = prune(repo).build().prune();
            assertEquals(0, again.packsDeleted() + again.packsRepacked() + again.packsMarked(), again.toString());
            assertEquals(0, storage.requests("delete", "data/"));
        }
    }

    /**
     * Packs removed behind the repository's back (by hand, a bucket lifecycle rule): ones no snapshot needs
     * leave the index for good; a missing pack a snapshot needs stops prune before it changes anything.
     */
    @Test
    void packsRemovedBehindItsBack_unusedLeaveTheIndex_aNeededOneStopsPruneWithNothingChanged() throws Exception {
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = create(storage)) {
            backup(repo, Map.of("a", () -> RandomData.stream(1, 2 * MIB)));
            List<String> packsOfA = repo.storage().list("data/").stream().map(ObjectInfo::name).toList();
            // the same stream again, all new data (one group for retention)
            Supplier<InputStream> b = () -> RandomData.stream(2, 2 * MIB);
            String idB = backup(repo, Map.of("a", b));
            assertEquals(1, ForgetManager.builder().repository(repo).policy(RetentionPolicy.builder().keepLast(1).build()).build()
                    .forget().removed().size());
            packsOfA.forEach(repo.storage()::delete);

            PruneResult r = prune(repo).build().prune();
            assertEquals(0, r.packsDeleted(), r.toString());
            CheckReport check = repo.check();
            assertTrue(check.ok(), check.errors().toString());
            assertEquals(Map.of("a", digest(b)), Repos.restore(repo, idB).digests());
            storage.reset();
            PruneResult again = prune(repo).build().prune();
            assertEquals(0, again.packsDeleted() + again.packsMarked(), again.toString());
            assertEquals(0, storage.requests("put", "index/"), "the index no longer lists the missing packs: " + storage.counters());

            String needed = repo.storage().list("data/").get(0).name();
            repo.storage().delete(needed);
            List<ObjectInfo> before = repo.storage().list("");
            io.backupkit.IntegrityException e = assertThrows(io.backupkit.IntegrityException.class, () -> prune(repo).build().prune());
            assertTrue(e.getMessage().contains(needed) && e.getMessage().contains("deleted nothing"), e.getMessage());
            assertEquals(before.stream().map(ObjectInfo::name).sorted().toList(),
                    repo.storage().list("").stream().map(ObjectInfo::name).sorted().toList(), "prune changed nothing");
        }
    }

    /** The metadata cache does not keep growing with forgotten snapshots: prune trims their blob lists too. */
    @Test
    void prune_trimsTheMetadataCache_ofForgottenSnapshotsBlobLists() throws Exception {
        Path cache = dir.resolve("cache");
        keyFile = KeyProviders.generateKeyFile(dir.resolve("key"));
        try (Repository repo = Repository.builder().storage(LocalStorage.of(dir.resolve("repo"))).keyProvider(KeyProviders.keyFile(keyFile))
                .packSize((int) MIB).chunkSizes(64 * 1024, 256 * 1024, 1024 * 1024).cacheDirectory(cache).create()) {
            for (int i = 0; i < 3; i++) {
                long seed = i;
                backup(repo, Map.of("a", () -> RandomData.stream(seed, MIB)));
            }
            prune(repo).build().prune();
            Path lists = cache.resolve(((DefaultRepository) repo).config().id()).resolve("blobs");
            assertEquals(3, countFiles(lists), "prune read (and cached) the three snapshots' blob lists");
            assertEquals(2, ForgetManager.builder().repository(repo).policy(RetentionPolicy.builder().keepLast(1).build()).build()
                    .forget().removed().size());
            prune(repo).build().prune();
            assertEquals(1, countFiles(lists), "only the kept snapshot's blob list stays cached");
        }
    }

    private static long countFiles(Path d) throws IOException {
        try (var s = java.nio.file.Files.list(d)) {
            return s.filter(f -> !f.getFileName().toString().startsWith(".tmp-")).count();
        }
    }

    @Test
    void manySmallIndexObjects_areMergedByPrune_andTheIndexStaysComplete() throws Exception {
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = create(storage)) {
            for (int i = 0; i < 8; i++) {
                long seed = i;
                // a checkpoint every pack: many small index objects, as long backups write them
                BackupManager.builder().repository(repo).parallelism(2).indexCheckpoints(1, Duration.ofMinutes(5))
                        .source(new GeneratedSource().stream("s", () -> RandomData.stream(300 + seed, 3 * MIB))).build().backup();
            }
            int before = repo.storage().list("index/").size();
            assertTrue(before >= 24, "index objects: " + before);
            PruneResult r = prune(repo).build().prune();
            int after = repo.storage().list("index/").size();
            assertTrue(after <= 3, "merged into a compacted object and a state object: " + after + " (" + r + ")");
            assertTrue(r.indexObjectsDeleted() >= before - 1, r.toString());
            assertTrue(repo.check().ok(), repo.check().errors().toString());
            try (Repository again = Repository.builder().storage(storage).keyProvider(KeyProviders.keyFile(keyFile)).open()) {
                for (Snapshot s : again.snapshots().list()) {
                    assertEquals(1, Repos.restore(again, s.id()).digests().size());
                }
                // every blob is still found: a backup of old data stores nothing new
                storage.reset();
                BackupManager.builder().repository(again).parallelism(2)
                        .source(new GeneratedSource().stream("s", () -> RandomData.stream(303, 3 * MIB))).build().backup();
                assertEquals(0, storage.bytes("put", "data/"), "re-uploaded " + storage.bytes("put", "data/"));
                assertTrue(storage.bytes("put", "snapshots/") > 0, "the backup ran through this storage");
            }
        }
    }

    @Test
    void emptyPolicy_andPolicyRemovingEveryting_areRefused_withoutRemovingAnything() throws Exception {
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = create(storage)) {
            backup(repo, Map.of("a", version(0)));
            backup(repo, Map.of("a", version(1)));
            ConfigurationException e = assertThrows(ConfigurationException.class,
                    () -> ForgetManager.builder().repository(repo).policy(RetentionPolicy.builder().build()).build().forget());
            assertTrue(e.getMessage().contains("no keep rule"), e.getMessage());
            e = assertThrows(ConfigurationException.class, () -> ForgetManager.builder().repository(repo)
                    .policy(RetentionPolicy.builder().keepTag("env", "prod").build()).build().forget());
            assertTrue(e.getMessage().contains("keeps no snapshot") && e.getMessage().contains("2 snapshots"), e.getMessage());
            assertEquals(2, repo.snapshots().list().size());
            ForgetResult forced = ForgetManager.builder().repository(repo).policy(RetentionPolicy.builder().keepTag("env", "prod").build())
                    .allowRemoveAll(true).build().forget();
            assertEquals(2, forced.removed().size());
            assertEquals(0, repo.snapshots().list().size());
            PruneResult r = prune(repo).build().prune();
            assertTrue(r.packsDeleted() > 0);
            assertEquals(0, repo.storage().list("data/").size(), "nothing is left: " + r);
            assertTrue(repo.check().ok());
        }
    }

    @Test
    void partlyUsedPacks_areRepacked_andUnusedShareBelowThreshold_isLeft() throws Exception {
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = create(storage)) {
            // one stream, random: packs hold blobs of both halves once the second backup keeps only the first half
            String whole = backup(repo, Map.of("s", () -> RandomData.stream(5, 6 * MIB)));
            String half = backup(repo, Map.of("s", () -> RandomData.stream(5, 3 * MIB)));
            ForgetManager.builder().repository(repo).policy(RetentionPolicy.builder().keepLast(1).build()).build().forget();
            PruneResult r = prune(repo).build().prune();
            assertTrue(r.bytesFreed() > 2 * MIB, r.toString());
            assertEquals(List.of(half), repo.snapshots().list().stream().map(Snapshot::id).toList());
            assertEquals(digest(() -> RandomData.stream(5, 3 * MIB)), Repos.restore(repo, half).digests().get("s"));
            assertTrue(repo.check().ok(), repo.check().errors().toString());
            assertFalse(whole.equals(half));
            // a high threshold leaves partly used packs alone
            backup(repo, Map.of("s", () -> RandomData.stream(6, 3 * MIB)));
            backup(repo, Map.of("s", () -> RandomData.stream(7, 3 * MIB)));
            ForgetManager.builder().repository(repo).policy(RetentionPolicy.builder().keepLast(1).build()).build().forget();
            PruneResult lazy = prune(repo).repackThreshold(1.0).build().prune();
            assertEquals(0, lazy.packsRepacked(), lazy.toString());
        }
    }

    @Test
    void backupReusingBlobsOfAPackPruneMarks_resurrectsIt_insteadOfLosingIt() throws Exception {
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = create(storage)) {
            Supplier<InputStream> data = () -> RandomData.stream(9, 3 * MIB);
            backup(repo, Map.of("s", data));
            ForgetManager.builder().repository(repo).policy(RetentionPolicy.builder().keepTag("x", "y").build()).allowRemoveAll(true)
                    .build().forget();
            // a backup of the same data starts (its index says the blobs exist) and pauses
            PausedSource paused = new PausedSource(data);
            CompletableFuture<String> running = CompletableFuture.supplyAsync(() -> BackupManager.builder().repository(repo)
                    .parallelism(2).source(paused).build().backup().snapshotId());
            assertTrue(paused.started.await(1, TimeUnit.MINUTES));
            long packsBefore = repo.storage().list("data/").size();

            // prune marks the packs but must not delete them: the backup read the index before the mark
            PruneResult first = prune(repo).build().prune();
            assertTrue(first.packsMarked() > 0, first.toString());
            assertEquals(0, first.packsDeleted(), first.toString());
            assertEquals(first.packsMarked(), first.packsPending());
            assertTrue(first.pendingBecause().stream().anyMatch(s -> s.startsWith("backup on ")), first.pendingBecause().toString());
            assertEquals(packsBefore, repo.storage().list("data/").size());

            // the backup reuses the marked blobs and commits
            paused.release.countDown();
            String id = running.get(2, TimeUnit.MINUTES);
            // the next prune sees the new snapshot needs them: resurrected, not deleted
            PruneResult second = prune(repo).build().prune();
            assertEquals(0, second.packsDeleted(), second.toString());
            assertTrue(second.packsResurrected() > 0, second.toString());
            assertEquals(digest(data), Repos.restore(repo, id).digests().get("s"));
            assertTrue(repo.check().ok(), repo.check().errors().toString());
            PruneResult third = prune(repo).build().prune();
            assertEquals(0, third.packsDeleted() + third.packsMarked(), third.toString());
            assertEquals(digest(data), Repos.restore(repo, id).digests().get("s"));
        }
    }

    @Test
    void backupStartingAfterTheMark_doesNotReuseObsoleteBlobs_andTheMarkedPacksGo() throws Exception {
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = create(storage)) {
            Supplier<InputStream> data = () -> RandomData.stream(10, 3 * MIB);
            backup(repo, Map.of("s", data));
            ForgetManager.builder().repository(repo).policy(RetentionPolicy.builder().keepTag("x", "y").build()).allowRemoveAll(true)
                    .build().forget();
            // a restore-like operation holds a shared lock from before the mark, so the marked packs wait
            DefaultRepository d = (DefaultRepository) repo;
            try (LockManager.Lock reader = d.locks().acquire(false, "restore")) {
                PruneResult first = prune(repo).build().prune();
                assertTrue(first.packsPending() > 0 && first.packsDeleted() == 0, first.toString());
                // a backup now does not reuse the marked blobs: it stores them again
                storage.reset();
                String id = backup(repo, Map.of("s", data));
                assertTrue(storage.bytes("put", "data/") >= 3 * MIB, "re-uploaded " + storage.bytes("put", "data/"));
                assertEquals(digest(data), Repos.restore(repo, id).digests().get("s"));
            }
            PruneResult second = prune(repo).build().prune();
            assertTrue(second.packsDeleted() > 0, second.toString());
            assertEquals(0, second.packsResurrected());
            assertTrue(repo.check().ok(), repo.check().errors().toString());
            assertEquals(digest(data), Repos.restore(repo, "latest").digests().get("s"));
        }
    }

    @Test
    void secondPrune_whileOneRuns_isRefused_namingTheHolder() throws Exception {
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = create(storage)) {
            backup(repo, Map.of("s", version(0)));
            try (LockManager.Lock other = ((DefaultRepository) repo).locks().acquire(LockManager.PRUNE, "prune")) {
                storage.reset();
                RepositoryLockedException e = assertThrows(RepositoryLockedException.class, () -> prune(repo).build().prune());
                assertTrue(e.getMessage().contains("prune lock of prune on"), e.getMessage());
                assertEquals(0, storage.requests("delete", "data/") + storage.requests("delete", "index/"));
                // backups do not wait for a prune
                backup(repo, Map.of("s", version(1)));
            }
        }
    }
}
