package io.backupkit.core;

import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.RepositoryLockedException;
import io.backupkit.StorageException;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.LockManager;
import io.backupkit.spi.Storage;
import io.backupkit.testkit.GeneratedSource;
import io.backupkit.testkit.InterceptingStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Taking a lock writes the lock object, then lists the locks again (conflicts); that listing also gives the
 * storage's time of the lock object (clock skew), so no request asks it on its own. A restore reads the index
 * beside the second check, never before its lock object is written: on S3 one round trip each.
 */
class LockRequestsTest {
    @TempDir
    Path dir;

    @Test
    void ownLockTime_isTheOneTheSecondConflictCheckLists_withoutAStat() {
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = Repository.builder().storage(storage).unencrypted().create()) {
            storage.reset();
            try (LockManager.Lock lock = ((DefaultRepository) repo).locks().acquire(false, "restore")) {
                assertEquals(2, storage.requests("list", "locks/"), "checked before and after the write: " + storage.counters());
                assertEquals(0, storage.requests("stat", "locks/"), "its time came with the second check: " + storage.counters());
                Instant listed = storage.list("locks/").stream().filter(o -> o.name().equals(lock.name())).findFirst()
                        .orElseThrow().modified();
                assertEquals(listed, lock.info().createdStorage(), "the storage's time of the lock object");
                assertNotNull(lock.info().clockSkewMillis());
            }
            assertEquals(List.of(), storage.list("locks/"), "released");
        }
    }

    /**
     * Where the second check's listing does not show the new lock object yet, its time comes from a stat, which may be
     * of another kind than the listings others compare it with (S3-compatible stores: HEAD whole seconds, listings
     * milliseconds): cut to the whole second it is never after the listing's time, so the lock never looks younger.
     */
    @Test
    void ownLockTime_whenTheListingDoesNotShowItYet_isAStatsCutToTheWholeSecond() {
        HookedStorage storage = new HookedStorage(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = Repository.builder().storage(storage).unencrypted().create()) {
            storage.onList = l -> l.stream().filter(o -> !o.name().startsWith("locks/")).toList();
            try (LockManager.Lock lock = ((DefaultRepository) repo).locks().acquire(false, "restore")) {
                storage.onList = l -> l;
                Instant listed = storage.list("locks/").stream().filter(o -> o.name().equals(lock.name())).findFirst()
                        .orElseThrow().modified();
                assertEquals(listed.truncatedTo(ChronoUnit.SECONDS), lock.info().createdStorage(), "listed " + listed);
                assertNotNull(lock.info().clockSkewMillis());
            }
        }
    }

    @Test
    void aConflictFoundByTheSecondCheck_removesTheLockObject() {
        BeforeLockWrite storage = new BeforeLockWrite(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = Repository.builder().storage(storage.storage).unencrypted().create()) {
            LockManager locks = ((DefaultRepository) repo).locks();
            storage.exclusiveLockBeforeOurs(locks);
            assertThrows(RepositoryLockedException.class, () -> locks.acquire(false, "restore"));
            assertEquals(1, storage.storage.list("locks/").size(), "only the exclusive lock is left");
        }
    }

    @Test
    void restore_readsTheIndexBesideTheSecondConflictCheck_onlyOnceItsLockObjectIsWritten() {
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        String id;
        try (Repository repo = Repository.builder().storage(storage).unencrypted().create()) {
            id = Repos.backup(repo, new GeneratedSource().stream("s", () -> new ByteArrayInputStream(new byte[300_000]))).snapshotId();
        }
        AtomicBoolean lockWritten = new AtomicBoolean();
        AtomicBoolean indexListedBeforeTheLock = new AtomicBoolean();
        CountDownLatch indexListed = new CountDownLatch(1);
        storage.beforePut(name -> {
            if (name.startsWith("locks/")) {
                lockWritten.set(true);
            }
        }).beforeList(prefix -> {
            if (prefix.equals("index/")) {
                indexListedBeforeTheLock.compareAndSet(false, !lockWritten.get());
                indexListed.countDown();
            } else if (prefix.equals("locks/") && lockWritten.get()) {
                // the second check returns only once the index is being listed: both are in flight together
                InterceptingStorage.awaitInHook(indexListed, "the index was not listed while the second conflict check was in flight");
            }
        });
        try (Repository repo = Repository.builder().storage(storage).unencrypted().open()) {
            assertEquals(300_000L, Repos.restore(repo, id).sizes().get("s"));
        }
        assertFalse(indexListedBeforeTheLock.get(), "the index is read only once a prune can see the restore's lock");
        assertEquals(List.of(), storage.list("locks/"), "released");
    }

    @Test
    void aConflictFoundByTheSecondCheck_whileTheWorkBesideRuns_removesTheLockObject_afterThatWorkEnded() {
        BeforeLockWrite storage = new BeforeLockWrite(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = Repository.builder().storage(storage.storage).unencrypted().create()) {
            LockManager locks = ((DefaultRepository) repo).locks();
            storage.exclusiveLockBeforeOurs(locks);
            AtomicBoolean besideEnded = new AtomicBoolean();
            AtomicBoolean lockRemovedWhileBesideRan = new AtomicBoolean();
            CountDownLatch lockRemoved = new CountDownLatch(1);
            storage.storage.beforeDelete(name -> {
                if (name.startsWith("locks/")) {
                    lockRemoved.countDown();
                }
            });
            assertThrows(RepositoryLockedException.class, () -> locks.acquire(LockManager.SHARED, "restore", () -> {
                repo.storage().list("index/");
                // still running well after the conflict was found: the lock object must not go meanwhile
                try {
                    lockRemovedWhileBesideRan.set(lockRemoved.await(300, TimeUnit.MILLISECONDS));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                besideEnded.set(true);
            }));
            assertTrue(besideEnded.get(), "acquire failed only once the work beside it had ended");
            assertFalse(lockRemovedWhileBesideRan.get(), "the lock object was removed while the work beside still ran");
            assertEquals(1, storage.storage.list("locks/").size(), "only the exclusive lock is left");
        }
    }

    @Test
    void workBesideThatFailsWithAnError_removesTheLockObject_andThrowsThatError() {
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = Repository.builder().storage(storage).unencrypted().create()) {
            LockManager locks = ((DefaultRepository) repo).locks();
            // an index too large for the heap: the lock object must not stay behind, live-looking to prunes until stale
            OutOfMemoryError thrown = assertThrows(OutOfMemoryError.class, () -> locks.acquire(LockManager.SHARED, "restore",
                    () -> {
                        throw new OutOfMemoryError("Java heap space (the index read)");
                    }));
            assertEquals("Java heap space (the index read)", thrown.getMessage());
            assertEquals(List.of(), storage.list("locks/"), "the lock object was removed");
        }
    }

    @Test
    void aConflictFoundByTheSecondCheck_whileTheWorkBesideFails_throwsTheConflict_withThatFailureBesideIt() {
        BeforeLockWrite storage = new BeforeLockWrite(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = Repository.builder().storage(storage.storage).unencrypted().create()) {
            LockManager locks = ((DefaultRepository) repo).locks();
            storage.exclusiveLockBeforeOurs(locks);
            RepositoryLockedException conflict = assertThrows(RepositoryLockedException.class,
                    () -> locks.acquire(LockManager.SHARED, "restore", () -> {
                        throw new StorageException("index/ could not be listed", true);
                    }));
            assertEquals(List.of("index/ could not be listed"),
                    Arrays.stream(conflict.getSuppressed()).map(Throwable::getMessage).toList());
            assertEquals(1, storage.storage.list("locks/").size(), "only the exclusive lock is left");
        }
    }

    /** Runs {@code beforeLockWrite} before each lock object's write while armed. */
    @Test
    void aConflictOnAnInterruptedThread_stillRemovesTheLockObject_andKeepsTheInterrupt() {
        BeforeLockWrite storage = new BeforeLockWrite(LocalStorage.of(dir.resolve("repo")));
        // as the S3 SDK does: a request on an interrupted thread fails
        storage.storage.beforeDelete(name -> {
            if (Thread.currentThread().isInterrupted()) {
                throw new StorageException("interrupted before deleting " + name, true);
            }
        });
        try (Repository repo = Repository.builder().storage(storage.storage).unencrypted().create()) {
            LockManager locks = ((DefaultRepository) repo).locks();
            storage.exclusiveLockBeforeOurs(locks);
            Thread caller = Thread.currentThread();
            try {
                // the restore is being stopped while it takes its lock: its thread is interrupted
                assertThrows(RepositoryLockedException.class, () -> locks.acquire(LockManager.SHARED, "restore", caller::interrupt));
                assertTrue(Thread.currentThread().isInterrupted(), "the interrupt is the caller's to see");
            } finally {
                Thread.interrupted();
            }
            assertEquals(1, storage.storage.list("locks/").size(), "only the exclusive lock is left");
        }
    }

    static final class BeforeLockWrite {
        final InterceptingStorage storage;
        volatile boolean armed;
        volatile Runnable beforeLockWrite = () -> { };

        /** An exclusive lock appears between the next acquire's first conflict check and its lock write. */
        void exclusiveLockBeforeOurs(LockManager locks) {
            armed = true;
            beforeLockWrite = () -> {
                beforeLockWrite = () -> { };
                armed = false;
                locks.acquire(true, "migrate");
                armed = true;
            };
        }

        BeforeLockWrite(Storage delegate) {
            storage = new InterceptingStorage(delegate).beforePut(name -> {
                if (armed && name.startsWith("locks/")) {
                    beforeLockWrite.run();
                }
            });
        }
    }
}
