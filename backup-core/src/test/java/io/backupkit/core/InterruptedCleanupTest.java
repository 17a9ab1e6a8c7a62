package io.backupkit.core;

import io.backupkit.BackupException;
import io.backupkit.BackupManager;
import io.backupkit.EngineException;
import io.backupkit.LocalStorage;
import io.backupkit.ProgressEvent;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.RestorePlan;
import io.backupkit.StorageException;
import io.backupkit.VerificationCheck;
import io.backupkit.VerificationLevel;
import io.backupkit.Verifier;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.BackupSource;
import io.backupkit.spi.RestoreContext;
import io.backupkit.spi.RestoreTarget;
import io.backupkit.testkit.DigestTarget;
import io.backupkit.testkit.GeneratedSource;
import io.backupkit.testkit.RandomData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An engine call that was interrupted returns with the thread's interrupt flag set; core's cleanup after
 * it (indexing the packs already stored, releasing the lock) must still reach storage, and the caller
 * must still see the flag. The storage here refuses calls on an interrupted thread, as the AWS SDK does
 * (it aborts them) and a {@code FileChannel} does (it closes itself).
 */
class InterruptedCleanupTest {
    @TempDir
    Path dir;

    @AfterEach
    void clearFlag() {
        Thread.interrupted();
    }

    private static HookedStorage refusingInterrupted(Path dir) {
        HookedStorage s = new HookedStorage(LocalStorage.of(dir));
        s.beforePut = n -> refuseIfInterrupted("put " + n);
        s.beforeDelete = n -> refuseIfInterrupted("delete " + n);
        return s;
    }

    private static void refuseIfInterrupted(String what) {
        if (Thread.currentThread().isInterrupted()) {
            throw new StorageException(what + " aborted: the calling thread is interrupted", false);
        }
    }

    @Test
    void interruptedBackup_indexesThePacksStoredBefore_releasesTheLock_andKeepsTheFlag() {
        HookedStorage storage = refusingInterrupted(dir);
        DefaultRepository.RepositoryBuilder b = (DefaultRepository.RepositoryBuilder) Repos.encrypted(storage).packSize(1024 * 1024);
        try (Repository repo = b.create()) {
            // the packs whose PACK_STORED event fired: by then the writer counts them as stored and in no index yet
            Map<Thread, String> lastPut = new ConcurrentHashMap<>();
            Set<String> reported = ConcurrentHashMap.newKeySet();
            storage.afterPut = n -> lastPut.put(Thread.currentThread(), n);
            Set<String> storedBefore = ConcurrentHashMap.newKeySet();
            BackupSource source = new BackupSource() {
                @Override
                public String engine() {
                    return GeneratedSource.ENGINE;
                }

                @Override
                public String describe() {
                    return "a source interrupted after two packs";
                }

                @Override
                public void backup(BackupContext context) {
                    try (InputStream in = RandomData.stream(5, 6L * 1024 * 1024)) {
                        OutputStream out = context.newStream("s");
                        in.transferTo(out);
                        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
                        while (reported.size() < 2 && System.nanoTime() < deadline) {
                            Thread.sleep(10);
                        }
                    } catch (IOException | InterruptedException e) {
                        throw new AssertionError(e);
                    }
                    storedBefore.addAll(reported);
                    // as an engine does when its caller interrupts it: stop, keep the flag, throw
                    Thread.currentThread().interrupt();
                    throw new EngineException("backup interrupted");
                }
            };
            BackupManager m = BackupManager.builder().repository(repo).parallelism(2).source(source)
                    .listener(e -> {
                        if (e.kind() == ProgressEvent.Kind.PACK_STORED) {
                            reported.add(lastPut.get(Thread.currentThread()));
                        }
                    }).build();
            assertThrows(EngineException.class, m::backup);
            assertTrue(Thread.interrupted(), "the interrupt flag is still set after the call");
            assertTrue(storedBefore.size() >= 2, storedBefore.toString());
            assertEquals(List.of(), storage.list("locks/"), "the lock was released");
            List<String> warnings = repo.check().warnings();
            for (String pack : storedBefore) {
                assertFalse(warnings.stream().anyMatch(w -> w.contains(pack)), pack + " is indexed: " + warnings);
            }
        }
    }

    /** A target that stops as an interrupted engine does: flag set, exception thrown. */
    private static final class InterruptedTarget implements RestoreTarget {
        @Override
        public String engine() {
            return GeneratedSource.ENGINE;
        }

        @Override
        public String describe() {
            return "an interrupted target";
        }

        @Override
        public RestorePlan plan(RestoreContext context) {
            return new DigestTarget().plan(context);
        }

        @Override
        public void restore(RestoreContext context) {
            Thread.currentThread().interrupt();
            throw new EngineException("restore interrupted");
        }

        @Override
        public List<VerificationCheck> verifyByRestore(RestoreContext context) {
            restore(context);
            return List.of();
        }
    }

    @Test
    void interruptedRestore_releasesTheLock_andKeepsTheFlag() {
        HookedStorage storage = refusingInterrupted(dir);
        try (Repository repo = Repos.encrypted(storage).create()) {
            String id = Repos.backup(repo, new GeneratedSource().stream("s", () -> RandomData.stream(1, 100_000))).snapshotId();
            RestoreManager r = RestoreManager.builder().repository(repo).snapshot(id).target(new InterruptedTarget()).build();
            assertThrows(EngineException.class, r::restore);
            assertTrue(Thread.interrupted(), "the interrupt flag is still set after the call");
            assertEquals(List.of(), storage.list("locks/"), "the lock was released");
        }
    }

    @Test
    void interruptedVerification_isNoFailedCheck_butAnException_andReleasesTheLock() {
        HookedStorage storage = refusingInterrupted(dir);
        try (Repository repo = Repos.encrypted(storage).create()) {
            String id = Repos.backup(repo, new GeneratedSource().stream("s", () -> RandomData.stream(1, 100_000))).snapshotId();
            Verifier v = Verifier.builder().repository(repo).snapshot(id).level(VerificationLevel.COMPREHENSIVE)
                    .scratchTarget(new InterruptedTarget()).build();
            assertThrows(BackupException.class, v::verify);
            assertTrue(Thread.interrupted(), "the interrupt flag is still set after the call");
            assertEquals(List.of(), storage.list("locks/"), "the lock was released");
        }
    }
}
