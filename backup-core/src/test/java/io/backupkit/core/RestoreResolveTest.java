package io.backupkit.core;

import io.backupkit.ConfigurationException;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.Snapshot;
import io.backupkit.testkit.DigestTarget;
import io.backupkit.testkit.GeneratedSource;
import io.backupkit.testkit.InterceptingStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How a restore finds its snapshot: the CLI resolves "latest" or a prefix (to show the snapshot), then
 * restores its full id; that id is not listed a second time (a round trip on S3). A full id not just
 * resolved is listed as before, and a missing one is "no snapshot", before any lock is taken.
 */
class RestoreResolveTest {
    @TempDir
    Path dir;

    private static byte[] data(long seed) {
        byte[] b = new byte[300_000];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void restoreOfTheSnapshotJustResolved_listsItOnce() {
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        String id = backupTo(storage);
        try (Repository repo = Repos.encrypted(storage).open()) {
            storage.reset();
            Snapshot latest = repo.snapshots().get("latest");
            DigestTarget target = Repos.restore(repo, latest.id());
            assertEquals(id, latest.id());
            assertEquals(300_000L, target.sizes().get("s"));
            assertEquals(1, storage.requests("list", "snapshots/"), "listed to resolve 'latest', not again; " + storage.counters());

            // a prefix resolves by a listing; the restore of its full id does not list again
            storage.reset();
            Repos.restore(repo, repo.snapshots().get(id.substring(0, 10)).id());
            assertEquals(1, storage.requests("list", "snapshots/"), storage.counters().toString());
        }
    }

    @Test
    void fullIdNotJustResolved_isListed_andAMissingOneIsNoSuchSnapshot_beforeAnyLock() {
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        String id = backupTo(storage);
        String missing = "0".repeat(63) + "1";
        try (Repository repo = Repos.encrypted(storage).open()) {
            storage.reset();
            assertEquals(300_000L, Repos.restore(repo, id).sizes().get("s"));
            assertEquals(1, storage.requests("list", "snapshots/"), "a full id given directly is listed: " + storage.counters());

            // just resolved, but another id is restored: that one is looked up
            repo.snapshots().get("latest");
            storage.reset();
            ConfigurationException e = assertThrows(ConfigurationException.class, () -> Repos.restore(repo, missing));
            assertEquals("no snapshot " + missing + " in " + repo.location(), e.getMessage());
            assertEquals(0, storage.requests("put", "locks/"), "no lock taken for a snapshot that is not there");
        }
    }

    private String backupTo(InterceptingStorage storage) {
        try (Repository repo = Repos.encrypted(storage).create()) {
            return Repos.backup(repo, new GeneratedSource().stream("s", () -> new ByteArrayInputStream(data(1)))).snapshotId();
        }
    }
}
