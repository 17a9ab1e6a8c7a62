package io.backupkit.core;

import io.backupkit.ConfigurationException;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.LockManager;
import io.backupkit.spi.Storage;
import io.backupkit.testkit.InterceptingStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A store that cannot create names atomically (S3-compatible, ignoring If-None-Match) gets no exclusive lock and no records. */
class ExclusiveLockNeedsAtomicCreateTest {
    @TempDir
    Path dir;

    @Test
    void exclusiveLock_onAStoreWithoutAtomicCreate_isRefused_whileSharedLocksStillWork() {
        try (Repository repo = Repos.encrypted(nonAtomic(dir)).create()) {
            LockManager locks = ((DefaultRepository) repo).locks();
            ConfigurationException e = assertThrows(ConfigurationException.class, () -> locks.acquire(true, "prune"));
            assertTrue(e.getMessage().contains("If-None-Match") && e.getMessage().contains("prune"), e.getMessage());
            assertEquals(List.of(), repo.storage().list("locks/"), "nothing written when refused");
            try (LockManager.Lock shared = locks.acquire(false, "backup")) {
                assertEquals(1, repo.storage().list("locks/").size());
            }
        }
    }

    @Test
    void records_onAStoreWithoutAtomicCreate_areRefused_onAnAtomicStoreCreatedOnce() {
        try (Repository repo = Repos.encrypted(nonAtomic(dir)).create()) {
            ConfigurationException e = assertThrows(ConfigurationException.class,
                    () -> repo.records().create("ops/nightly/claims/1", new byte[]{1}));
            assertTrue(e.getMessage().contains("If-None-Match") && e.getMessage().contains("ops/nightly/claims/1"), e.getMessage());
            assertEquals(List.of(), repo.records().list("ops/"), "nothing written when refused");
        }
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).open()) {
            assertTrue(repo.records().create("ops/nightly/claims/1", new byte[]{1}));
            assertFalse(repo.records().create("ops/nightly/claims/1", new byte[]{2}));
        }
    }

    @Test
    void exclusiveLock_onAnAtomicStore_isGranted() {
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).create();
             LockManager.Lock lock = ((DefaultRepository) repo).locks().acquire(true, "prune")) {
            assertEquals(1, repo.storage().list("locks/").size());
        }
    }

    /** A store that ignores If-None-Match: it says so, and reports every write as done. */
    private static Storage nonAtomic(Path dir) {
        return new InterceptingStorage(LocalStorage.of(dir)).conditionalWrites(false);
    }
}
