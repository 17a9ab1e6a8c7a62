package io.backupkit.core;

import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.RepositoryLockedException;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.LockManager;
import io.backupkit.spi.Payload;
import io.backupkit.testkit.DumpLikeData;
import io.backupkit.testkit.GeneratedSource;
import io.backupkit.testkit.InterceptingStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LockTest {
    @TempDir
    Path dir;

    @Test
    void exclusiveLock_blocksBackup_namingHolder_andSharedLocksCoexist() {
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).create()) {
            DefaultRepository d = (DefaultRepository) repo;
            try (LockManager.Lock shared = d.locks().acquire(false, "backup")) {
                // a second shared lock (another backup) is fine
                Repos.backup(repo, new GeneratedSource().stream("s", () -> DumpLikeData.stream(1, 1000)));
                assertThrows(RepositoryLockedException.class, () -> d.locks().acquire(true, "prune"));
            }
            try (LockManager.Lock prune = d.locks().acquire(true, "prune")) {
                RepositoryLockedException e = assertThrows(RepositoryLockedException.class,
                        () -> Repos.backup(repo, new GeneratedSource().stream("s", () -> DumpLikeData.stream(1, 1000))));
                assertTrue(e.holder().startsWith("prune on "), e.holder());
                assertFalse(e.stale());
                assertTrue(e.getMessage().contains("exclusive lock of prune"), e.getMessage());
            }
            assertEquals(1, repo.snapshots().list().size());
        }
    }

    @Test
    void lockNotRefreshedForAnHour_isReportedStaleWithAge() {
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).create()) {
            DefaultRepository d = (DefaultRepository) repo;
            Clock anHourAgo = Clock.offset(Clock.systemUTC(), Duration.ofHours(-1));
            LockManager.Lock old = new LockManager(repo.storage(), d.sealer(), anHourAgo).acquire(true, "prune");
            RepositoryLockedException e = assertThrows(RepositoryLockedException.class,
                    () -> Repos.backup(repo, new GeneratedSource().stream("s", () -> DumpLikeData.stream(1, 1000))));
            assertTrue(e.stale());
            assertTrue(e.age().toMinutes() >= 59, e.age().toString());
            assertTrue(e.getMessage().contains("stale") && e.getMessage().contains("60 min ago"), e.getMessage());
            old.close();
            Repos.backup(repo, new GeneratedSource().stream("s", () -> DumpLikeData.stream(1, 1000)));
        }
    }

    /**
     * A holder refreshes its lock by writing a new object and deleting the old one. Read between the two
     * (listed, then gone), the lock must still be seen: prune would otherwise not wait for that backup.
     */
    @Test
    void lockRefreshedBetweenListingAndRead_isStillListed() {
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir));
        try (Repository repo = Repos.encrypted(storage).create()) {
            DefaultRepository d = (DefaultRepository) repo;
            try (LockManager.Lock backup = d.locks().acquire(false, "backup")) {
                AtomicBoolean refreshed = new AtomicBoolean();
                storage.beforeGet(name -> {
                    if (name.startsWith("locks/") && refreshed.compareAndSet(false, true)) {
                        // what a refresh does, right after the reader listed the old object
                        byte[] bytes = storage.readAll(name);
                        storage.putIfAbsent("locks/" + "0".repeat(31) + "1", Payload.of(bytes));
                        storage.delete(name);
                    }
                });
                List<LockManager.Listed> listed = d.locks().list();
                storage.beforeGet(name -> { });
                assertTrue(refreshed.get());
                assertEquals(1, listed.size(), listed.toString());
                assertEquals("backup", listed.get(0).info().operation());
                assertEquals(backup.info().created(), listed.get(0).info().created());
            }
        }
    }
}
