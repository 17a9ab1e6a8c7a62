package io.backupkit.core;

import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.RepositoryLockedException;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.LockManager;
import io.backupkit.testkit.DumpLikeData;
import io.backupkit.testkit.GeneratedSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

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
}
