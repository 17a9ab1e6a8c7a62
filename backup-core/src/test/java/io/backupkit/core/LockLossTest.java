package io.backupkit.core;

import io.backupkit.BackupManager;
import io.backupkit.LocalStorage;
import io.backupkit.LockLostException;
import io.backupkit.Repository;
import io.backupkit.StorageException;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.LockManager;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.BackupSource;
import io.backupkit.testkit.DumpLikeData;
import io.backupkit.testkit.InterceptingStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A backup that lost its lock writes neither index nor manifest (issue 9 item 8). */
class LockLossTest {
    private static final LockManager.Timing FAST = new LockManager.Timing(Duration.ofMillis(50), Duration.ofMillis(600),
            Duration.ofSeconds(3));

    @TempDir
    Path dir;

    /** Writes one stream, then runs {@code middle} before finishing it: the backup is "in progress" meanwhile. */
    private static BackupSource source(Runnable middle) {
        return new BackupSource() {
            @Override
            public String engine() {
                return "generated";
            }

            @Override
            public String describe() {
                return "a stream that waits in the middle";
            }

            @Override
            public void backup(BackupContext context) {
                try (InputStream in = DumpLikeData.stream(7, 3L * 1024 * 1024); OutputStream out = context.newStream("s")) {
                    in.transferTo(out);
                    middle.run();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        };
    }

    private Repository open(InterceptingStorage storage) {
        DefaultRepository.RepositoryBuilder b = (DefaultRepository.RepositoryBuilder) Repos.encrypted(storage);
        return b.lockTiming(FAST).openOrCreate();
    }

    private static void waitFor(Duration d) {
        long end = System.nanoTime() + d.toNanos();
        while (System.nanoTime() < end) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    @Test
    void lockThatCannotBeRefreshed_stopsTheBackup_beforeIndexAndManifest() {
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = open(storage)) {
            storage.reset();
            boolean[] failLocks = {false};
            java.util.concurrent.atomic.AtomicInteger refused = new java.util.concurrent.atomic.AtomicInteger();
            storage.beforePut(name -> {
                if (failLocks[0] && name.startsWith("locks/")) {
                    refused.incrementAndGet();
                    throw new StorageException("injected: lock write refused", true);
                }
            });
            BackupManager backup = BackupManager.builder().repository(repo).parallelism(2).source(source(() -> {
                failLocks[0] = true;
                // past the give-up time: every refresh attempt in between failed
                waitFor(FAST.giveUpAfter().multipliedBy(2));
            })).build();
            LockLostException e = assertThrows(LockLostException.class, backup::backup);
            assertTrue(e.getMessage().contains("lost its lock"), e.getMessage());
            assertTrue(refused.get() >= 3, "refreshes were attempted: " + refused.get());
            assertEquals(0, storage.requests("put", "index/"), "no index may be written: " + storage.counters());
            assertEquals(0, storage.requests("put", "snapshots/"), "no manifest may be written: " + storage.counters());
            failLocks[0] = false;
            assertEquals(0, repo.snapshots().list().size());
        }
    }

    @Test
    void lockRemovedByAnotherProcess_stopsTheBackup_atTheNextRefresh() {
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = open(storage)) {
            BackupManager backup = BackupManager.builder().repository(repo).parallelism(2).source(source(() -> {
                // what `unlock --force` on another host does
                repo.storage().list("locks/").forEach(o -> repo.storage().delete(o.name()));
                // until a whole refresh ran after the removal (each refresh looks at its lock object twice)
                long stats = storage.requests("stat", "locks/");
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (storage.requests("stat", "locks/") < stats + 3 && System.nanoTime() < deadline) {
                    waitFor(FAST.refreshEvery());
                }
            })).build();
            storage.reset();
            LockLostException e = assertThrows(LockLostException.class, backup::backup);
            assertTrue(e.getMessage().contains("removed by another process"), e.getMessage());
            assertEquals(0, storage.requests("put", "snapshots/"), storage.counters().toString());
            assertEquals(0, repo.snapshots().list().size());
        }
    }

    @Test
    void healthyLock_isRefreshedDuringALongBackup_andTheBackupSucceeds() {
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = open(storage)) {
            storage.reset();
            BackupManager backup = BackupManager.builder().repository(repo).parallelism(2)
                    .source(source(() -> waitFor(FAST.giveUpAfter().multipliedBy(2)))).build();
            backup.backup();
            assertTrue(storage.requests("put", "locks/") >= 3, "the lock was refreshed: " + storage.counters());
            assertEquals(0, repo.storage().list("locks/").size(), "released at the end");
            assertEquals(1, repo.snapshots().list().size());
        }
    }
}
