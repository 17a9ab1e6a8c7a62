package io.backupkit.internal.repo;

import io.backupkit.LocalStorage;
import io.backupkit.internal.crypto.Sealer;
import io.backupkit.testkit.InterceptingStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** close() racing a refresh must not leave a lock object behind (issue 9 item 8). */
class LockRefreshRaceTest {
    @TempDir
    Path dir;

    @Test
    void closeDuringARefresh_leavesNoLockObject() throws Exception {
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir));
        // long refresh interval: the only refresh is the one this test starts
        LockManager locks = new LockManager(storage, Sealer.checksumOnly(), Clock.systemUTC(),
                new LockManager.Timing(Duration.ofHours(1), Duration.ofHours(2), Duration.ofHours(3)));
        LockManager.Lock lock = locks.acquire(false, "backup");
        CountDownLatch refreshWriting = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean block = new AtomicBoolean(true);
        storage.beforePut(name -> {
            if (block.getAndSet(false)) {
                refreshWriting.countDown();
                // the refresh is in the middle of writing its new lock object
                boolean interrupted = false;
                while (true) {
                    try {
                        release.await();
                        break;
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        Thread refresher = new Thread(lock::refresh);
        refresher.start();
        assertTrue(refreshWriting.await(30, TimeUnit.SECONDS));
        Thread closer = new Thread(lock::close);
        closer.start();
        // give close() every chance to run ahead of the refresh it races
        closer.join(300);
        release.countDown();
        refresher.join(30_000);
        closer.join(30_000);
        assertEquals(0, storage.list("locks/").size(), "close() must remove the lock object the refresh wrote");
    }
}
