package io.backupkit.core;

import io.backupkit.BackupManager;
import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.PruneResult;
import io.backupkit.Repository;
import io.backupkit.Snapshot;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.testkit.DumpLikeData;
import io.backupkit.testkit.GeneratedSource;
import io.backupkit.testkit.InterceptingStorage;
import io.backupkit.testkit.RandomData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11 acceptance 4: pruning one snapshot out of 100 costs storage requests in proportion to that
 * snapshot's unique data, not to the repository. Counted with a request-counting storage decorator, on
 * two repositories of 50 and 100 snapshots that differ only in size.
 */
class PruneCostTest {
    private static final long KIB = 1024;

    @TempDir
    Path dir;

    /** The requests of a prune that frees one snapshot's unique data, in a repository of {@code snapshots} snapshots. */
    private Map<String, Long> pruneOne(int snapshots, Path repoDir, Path cache) throws Exception {
        Path keyFile = KeyProviders.generateKeyFile(repoDir.resolveSibling(repoDir.getFileName() + ".key"));
        InterceptingStorage counting = new InterceptingStorage(LocalStorage.of(repoDir));
        try (Repository repo = ((DefaultRepository.RepositoryBuilder) Repository.builder().storage(counting)
                .keyProvider(KeyProviders.keyFile(keyFile)).packSize(1024 * 1024).chunkSizes(16 * 1024, 64 * 1024, 256 * 1024))
                .cacheDirectory(cache).create()) {
            for (int i = 0; i < snapshots; i++) {
                long seed = i;
                // a database that barely changes, plus 96 KiB of data only this backup has
                BackupManager.builder().repository(repo).parallelism(2).tag("n", Integer.toString(i))
                        .source(new GeneratedSource()
                                .stream("base", () -> DumpLikeData.stream(3, 512 * KIB))
                                .stream("own", () -> RandomData.stream(10_000 + seed, 96 * KIB))).build().backup();
            }
            // a first prune merges the many small index objects: the state later prunes start from
            PruneTest.prune(repo).build().prune();
            Snapshot victim = repo.snapshots().list().get(snapshots / 2);
            ((DefaultRepository) repo).forgetSnapshot(victim.id());
            counting.reset();
            PruneResult r = PruneTest.prune(repo).build().prune();
            assertTrue(r.bytesFreed() >= 90 * KIB, r.toString());
            assertEquals(snapshots - 1, repo.snapshots().list().size());
            assertTrue(repo.check().ok());
            System.out.printf("prune of 1 of %d snapshots: %s%n  %s%n", snapshots, r, counting.counters());
            return counting.counters();
        }
    }

    @Test
    void pruningOneSnapshotOf100_costsWhatOneOf50Costs() throws Exception {
        Map<String, Long> fifty = pruneOne(50, dir.resolve("fifty"), dir.resolve("cache50"));
        Map<String, Long> hundred = pruneOne(100, dir.resolve("hundred"), dir.resolve("cache100"));
        for (String counter : List.of("get data/", "delete data/", "put data/", "get bytes data/", "get index/", "get snapshots/",
                "put index/", "delete index/", "get *", "delete *", "put *")) {
            long a = fifty.getOrDefault(counter, 0L);
            long b = hundred.getOrDefault(counter, 0L);
            // a repository twice the size costs the same, within a few requests
            assertTrue(b <= a + Math.max(4, a / 5), counter + ": " + a + " requests with 50 snapshots, " + b + " with 100");
        }
        // and what it does read and delete is about the one snapshot's data: a pack or two
        assertTrue(hundred.getOrDefault("delete data/", 0L) <= 3, hundred.toString());
        assertTrue(hundred.getOrDefault("get bytes data/", 0L) <= 2 * 1024 * KIB, hundred.toString());
        assertTrue(hundred.getOrDefault("get *", 0L) <= 20, hundred.toString());
    }

    static Duration zero() {
        return Duration.ZERO;
    }
}
