package io.backupkit.core;

import io.backupkit.ConfigurationException;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.LockManager;
import io.backupkit.spi.ObjectInfo;
import io.backupkit.spi.Payload;
import io.backupkit.spi.Storage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

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
        try (Repository repo = Repos.encrypted(new NonAtomic(LocalStorage.of(dir))).create()) {
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
        try (Repository repo = Repos.encrypted(new NonAtomic(LocalStorage.of(dir))).create()) {
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

    /** Delegates everything and says it cannot create names atomically. */
    private record NonAtomic(Storage delegate) implements Storage {
        @Override
        public boolean atomicPutIfAbsent() {
            return false;
        }

        @Override
        public String location() {
            return delegate.location();
        }

        @Override
        public boolean putIfAbsent(String name, Payload payload) {
            return delegate.putIfAbsent(name, payload);
        }

        @Override
        public InputStream get(String name) {
            return delegate.get(name);
        }

        @Override
        public InputStream get(String name, long offset, long length) {
            return delegate.get(name, offset, length);
        }

        @Override
        public Optional<ObjectInfo> stat(String name) {
            return delegate.stat(name);
        }

        @Override
        public List<ObjectInfo> list(String prefix) {
            return delegate.list(prefix);
        }

        @Override
        public void delete(String name) {
            delegate.delete(name);
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
