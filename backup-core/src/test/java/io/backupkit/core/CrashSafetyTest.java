package io.backupkit.core;

import io.backupkit.BackupException;
import io.backupkit.BackupResult;
import io.backupkit.CheckReport;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.testkit.DigestTarget;
import io.backupkit.testkit.DumpLikeData;
import io.backupkit.testkit.FaultInjectingStorage;
import io.backupkit.testkit.GeneratedSource;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A backup that dies at a random storage write (lock, any pack, index or manifest) leaves no new
 * snapshot, a repository that passes check(), and a next backup that succeeds.
 */
class CrashSafetyTest {
    @TempDir
    Path dir;

    private static void copyTree(Path from, Path to) throws java.io.IOException {
        try (var walk = java.nio.file.Files.walk(from)) {
            for (Path p : walk.toList()) {
                java.nio.file.Files.copy(p, to.resolve(from.relativize(p).toString()));
            }
        }
    }

    private static GeneratedSource source(long seed) {
        return new GeneratedSource()
                .stream("a", () -> DumpLikeData.stream(seed, 5L * 1024 * 1024))
                .stream("b", () -> DumpLikeData.stream(seed + 1, 3L * 1024 * 1024));
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void failureAtRandomWrite_leavesNoSnapshotAndRepositoryUsable(long seed) throws Exception {
        LocalStorage disk = LocalStorage.of(dir.resolve("repo"));
        String good;
        try (Repository repo = Repos.encrypted(disk).packSize(1024 * 1024).create()) {
            good = Repos.backup(repo, source(100)).snapshotId();
        }
        // count the writes of a clean second backup on a copy, then fail at a random one of them
        Path copy = dir.resolve("count");
        copyTree(dir.resolve("repo"), copy);
        FaultInjectingStorage counting = new FaultInjectingStorage(LocalStorage.of(copy), Integer.MAX_VALUE);
        try (Repository repo = Repos.encrypted(counting).open()) {
            Repos.backup(repo, source(seed));
        }
        assertTrue(counting.writes() >= 4, "lock, packs, index, manifest: " + counting.writes());
        // the count varies by one between runs (where a pack is cut depends on how the two streams' chunks interleave), so
        // the fault is placed among all but the last write: every run reaches it
        int failAt = 1 + new Random(seed).nextInt(counting.writes() - 1);
        FaultInjectingStorage faulty = new FaultInjectingStorage(disk, failAt);
        try (Repository repo = Repos.encrypted(faulty).open()) {
            assertThrows(BackupException.class, () -> Repos.backup(repo, source(seed)));
        }
        try (Repository repo = Repos.encrypted(disk).open()) {
            assertEquals(1, repo.snapshots().list().size(), "the failed backup must not be listed (failed at write " + failAt + ")");
            assertEquals(good, repo.snapshots().list().get(0).id());
            CheckReport check = repo.check();
            assertTrue(check.ok(), check.errors().toString());
            assertTrue(disk.list("locks/").isEmpty(), "the failed backup released its lock");

            BackupResult next = Repos.backup(repo, source(seed));
            DigestTarget t = Repos.restore(repo, next.snapshotId());
            assertEquals(DigestTarget.digestOf(DumpLikeData.stream(seed, 5L * 1024 * 1024)).getKey(), t.digests().get("a"));
            assertEquals(DigestTarget.digestOf(DumpLikeData.stream(seed + 1, 3L * 1024 * 1024)).getKey(), t.digests().get("b"));
            assertTrue(repo.check().ok());
        }
    }
}
