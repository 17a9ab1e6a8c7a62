package io.backupkit.core;

import io.backupkit.BackupManager;
import io.backupkit.CheckReport;
import io.backupkit.ForgetManager;
import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.PruneResult;
import io.backupkit.Repository;
import io.backupkit.RetentionPolicy;
import io.backupkit.Snapshot;
import io.backupkit.StorageException;
import io.backupkit.testkit.DigestTarget;
import io.backupkit.testkit.DumpLikeData;
import io.backupkit.testkit.GeneratedSource;
import io.backupkit.testkit.InterceptingStorage;
import io.backupkit.testkit.RandomData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A prune that dies at any of its writes or deletes (the process stops there, as with SIGKILL: every
 * later storage call fails) leaves a repository that check accepts, whose snapshots all restore, and
 * that the next prune finishes pruning. Each point is tried on a fresh copy of the same repository.
 */
class PruneCrashTest {
    private static final long MIB = 1024 * 1024;

    @TempDir
    Path dir;

    private static void copyTree(Path from, Path to) throws Exception {
        try (var walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Files.copy(p, to.resolve(from.relativize(p).toString()));
            }
        }
    }

    private static Repository open(InterceptingStorage s, Path keyFile) {
        return Repository.builder().storage(s).keyProvider(KeyProviders.keyFile(keyFile)).open();
    }

    @Test
    void pruneDyingAtEveryWriteAndDelete_leavesACheckableRestorableRepository() throws Exception {
        Path keyFile = KeyProviders.generateKeyFile(dir.resolve("key"));
        Path original = dir.resolve("original");
        Map<String, String> digests = new HashMap<>();
        try (Repository repo = Repository.builder().storage(LocalStorage.of(original)).keyProvider(KeyProviders.keyFile(keyFile))
                .packSize((int) MIB).chunkSizes(64 * 1024, 256 * 1024, 1024 * 1024).create()) {
            for (int i = 0; i < 5; i++) {
                long seed = i;
                GeneratedSource src = new GeneratedSource()
                        .stream("a", () -> DumpLikeData.edited(2, 3 * MIB, 2 + (int) seed, 30))
                        .stream("b", () -> RandomData.stream(50 + seed, MIB + seed * 200_000));
                String id = BackupManager.builder().repository(repo).parallelism(2).indexCheckpoints(2, Duration.ofMinutes(5))
                        .source(src).build().backup().snapshotId();
                digests.put(id + "/a", DigestTarget.digestOf(DumpLikeData.edited(2, 3 * MIB, 2 + (int) seed, 30)).getKey());
                digests.put(id + "/b", DigestTarget.digestOf(RandomData.stream(50 + seed, MIB + seed * 200_000)).getKey());
            }
            ForgetManager.builder().repository(repo).policy(RetentionPolicy.builder().keepLast(2).build()).build().forget();
        }
        // how many writes and deletes an undisturbed prune makes
        Path counted = dir.resolve("counted");
        copyTree(original, counted);
        AtomicInteger mutations = new AtomicInteger();
        InterceptingStorage counting = new InterceptingStorage(LocalStorage.of(counted)).beforePut(n -> mutations.incrementAndGet())
                .beforeDelete(n -> mutations.incrementAndGet());
        PruneResult clean;
        try (Repository repo = open(counting, keyFile)) {
            clean = PruneTest.prune(repo).build().prune();
        }
        int total = mutations.get();
        assertTrue(clean.packsDeleted() > 0 && clean.packsRepacked() > 0 && clean.indexObjectsDeleted() > 0,
                "the prune must have every kind of work: " + clean);
        assertTrue(total >= 8, "mutations: " + total);
        long cleanSize = PruneTest.storedBytes(LocalStorageRepo.of(counted));

        for (int k = 1; k <= total; k++) {
            Path copy = dir.resolve("crash-" + k);
            copyTree(original, copy);
            AtomicInteger seen = new AtomicInteger();
            String[] killedAt = {null};
            int failAt = k;
            InterceptingStorage dying = new InterceptingStorage(LocalStorage.of(copy));
            dying.beforePut(n -> {
                if (seen.incrementAndGet() >= failAt) {
                    killedAt[0] = killedAt[0] == null ? "write " + n : killedAt[0];
                    throw new StorageException("process killed before writing " + n, false);
                }
            }).beforeDelete(n -> {
                if (seen.incrementAndGet() >= failAt) {
                    killedAt[0] = killedAt[0] == null ? "delete " + n : killedAt[0];
                    throw new StorageException("process killed before deleting " + n, false);
                }
            });
            try (Repository repo = open(dying, keyFile)) {
                PruneTest.prune(repo).build().prune();
                // only releasing the lock at the very end may fail without failing the prune
                assertTrue(killedAt[0].startsWith("delete locks/"), "prune must fail at mutation " + k + ": " + killedAt[0]);
            } catch (StorageException expected) {
                // died there
            }
            // the dead process's lock stays behind; unlock removes it
            LocalStorage disk = LocalStorage.of(copy);
            disk.list("locks/").forEach(o -> disk.delete(o.name()));
            try (Repository repo = open(new InterceptingStorage(disk), keyFile)) {
                CheckReport check = repo.check();
                assertTrue(check.ok(), "killed at mutation " + k + " of " + total + ": " + check.errors());
                assertEquals(2, repo.snapshots().list().size());
                for (Snapshot s : repo.snapshots().list()) {
                    DigestTarget t = Repos.restore(repo, s.id());
                    assertEquals(digests.get(s.id() + "/a"), t.digests().get("a"), "killed at mutation " + k);
                    assertEquals(digests.get(s.id() + "/b"), t.digests().get("b"), "killed at mutation " + k);
                }
                PruneResult next = PruneTest.prune(repo).build().prune();
                CheckReport after = repo.check();
                assertTrue(after.ok() && after.warnings().isEmpty(), "after the next prune (killed at " + k + "): " + after.errors()
                        + after.warnings() + " " + next);
                for (Snapshot s : repo.snapshots().list()) {
                    assertEquals(digests.get(s.id() + "/b"), Repos.restore(repo, s.id()).digests().get("b"));
                }
                long size = PruneTest.storedBytes(repo);
                assertTrue(size <= cleanSize + 64 * 1024, "killed at " + k + ": the next prune frees what the first would have: "
                        + size + " vs " + cleanSize);
            }
        }
    }

    /** Sizes of a directory's objects, via LocalStorage. */
    private static final class LocalStorageRepo {
        static Repository of(Path p) {
            return (Repository) java.lang.reflect.Proxy.newProxyInstance(Repository.class.getClassLoader(), new Class<?>[] {Repository.class},
                    (proxy, m, args) -> {
                        if (m.getName().equals("storage")) {
                            return LocalStorage.of(p);
                        }
                        throw new UnsupportedOperationException(m.getName());
                    });
        }
    }
}
