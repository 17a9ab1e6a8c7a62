package io.backupkit.core;

import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.RepositoryLockedException;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.LockManager;
import io.backupkit.spi.Storage;
import io.backupkit.testkit.InterceptingStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Taking a lock writes the lock object, then asks the storage's time of it (clock skew) and lists the
 * locks again (conflicts): the two are sent side by side, one round trip instead of two on S3.
 */
class LockRequestsTest {
    @TempDir
    Path dir;

    @Test
    void ownLockTimeAndSecondConflictCheck_areInFlightTogether() {
        StatWaitsForListing storage = new StatWaitsForListing(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = Repository.builder().storage(storage.storage).unencrypted().create()) {
            storage.armed = true;
            try (LockManager.Lock lock = ((DefaultRepository) repo).locks().acquire(false, "restore")) {
                assertNotNull(lock.info().clockSkewMillis(), "the storage's time of the lock object was read");
                assertNotNull(lock.info().createdStorage());
                assertEquals(0, storage.listedAfterWrite.getCount());
            }
            assertEquals(List.of(), storage.storage.list("locks/"), "released");
        }
    }

    @Test
    void aConflictFoundByTheSecondCheck_removesTheLockObject() {
        StatWaitsForListing storage = new StatWaitsForListing(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = Repository.builder().storage(storage.storage).unencrypted().create()) {
            LockManager locks = ((DefaultRepository) repo).locks();
            storage.armed = true;
            // an exclusive lock appears between our first check and our write
            storage.beforeLockWrite = () -> {
                storage.beforeLockWrite = () -> { };
                storage.armed = false;
                locks.acquire(true, "migrate");
                storage.armed = true;
            };
            assertThrows(RepositoryLockedException.class, () -> locks.acquire(false, "restore"));
            assertEquals(1, storage.storage.list("locks/").size(), "only the exclusive lock is left");
        }
    }

    /** Lets a lock object's stat through only once the locks were listed after a lock object was written. */
    static final class StatWaitsForListing {
        final InterceptingStorage storage;
        final CountDownLatch listedAfterWrite = new CountDownLatch(1);
        volatile boolean armed;
        volatile boolean written;
        volatile Runnable beforeLockWrite = () -> { };

        StatWaitsForListing(Storage delegate) {
            storage = new InterceptingStorage(delegate).beforePut(name -> {
                if (armed && name.startsWith("locks/")) {
                    beforeLockWrite.run();
                    written = true;
                }
            }).beforeList(prefix -> {
                if (written && prefix.equals("locks/")) {
                    listedAfterWrite.countDown();
                }
            }).beforeStat(name -> {
                if (armed && name.startsWith("locks/")) {
                    InterceptingStorage.awaitInHook(listedAfterWrite, "the locks were not listed while the lock object's time was asked");
                }
            });
        }
    }
}
