package io.backupkit.core;

import io.backupkit.BackupManager;
import io.backupkit.EngineException;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.testkit.DigestTarget;
import io.backupkit.testkit.GeneratedSource;
import io.backupkit.testkit.InterceptingStorage;
import io.backupkit.testkit.RandomData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A backup that fails half-way leaves its stored packs indexed, so running it again uploads only the
 * rest (issue 9 item 7). The SIGKILL variant is {@code ResumableBackupIT}.
 */
class ResumableBackupTest {
    private static final long SIZE = 24L * 1024 * 1024;

    @TempDir
    Path dir;

    private Repository create(InterceptingStorage storage) {
        DefaultRepository.RepositoryBuilder b = (DefaultRepository.RepositoryBuilder) Repos.encrypted(storage).packSize(1024 * 1024);
        return b.chunkerSeed(42).create();
    }

    private static BackupManager backup(Repository repo, GeneratedSource source, int checkpointPacks) {
        return BackupManager.builder().repository(repo).parallelism(2).indexCheckpoints(checkpointPacks, Duration.ofMinutes(10))
                .source(source).build();
    }

    /** The stream, failing once {@code stored} says half of {@code full} reached storage. */
    private static InputStream failingAtHalf(AtomicLong stored, long full) {
        return new FilterInputStream(RandomData.stream(3, SIZE)) {
            long read;

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                // near the end of the data, wait for half to reach storage (a loaded machine uploads slowly)
                long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(5);
                while (read >= SIZE * 3 / 4 && stored.get() < full / 2 && System.nanoTime() < deadline) {
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted");
                    }
                }
                if (stored.get() >= full / 2) {
                    throw new IOException("source died after " + stored.get() + " bytes were stored");
                }
                int n = super.read(b, off, Math.min(len, 64 * 1024));
                read += Math.max(0, n);
                return n;
            }
        };
    }

    @Test
    void backupFailingHalfWay_isResumed_uploadingAtMost55PercentOnTheRerun() throws Exception {
        InterceptingStorage reference = new InterceptingStorage(LocalStorage.of(dir.resolve("reference")));
        try (Repository repo = create(reference)) {
            reference.reset();
            backup(repo, new GeneratedSource().stream("s", () -> RandomData.stream(3, SIZE)), 64).backup();
        }
        long full = reference.bytes("put", "*");

        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = create(storage)) {
            AtomicLong stored = new AtomicLong();
            BackupManager failing = BackupManager.builder().repository(repo).parallelism(2).indexCheckpoints(64, Duration.ofMinutes(10))
                    .listener(e -> stored.set(e.bytesStored()))
                    .source(new GeneratedSource().stream("s", () -> failingAtHalf(stored, full))).build();
            assertThrows(EngineException.class, failing::backup);
            assertEquals(0, repo.snapshots().list().size());
            assertTrue(repo.check().ok(), repo.check().errors().toString());

            storage.reset();
            String id = backup(repo, new GeneratedSource().stream("s", () -> RandomData.stream(3, SIZE)), 64).backup().snapshotId();
            long rerun = storage.bytes("put", "*");
            assertTrue(rerun <= full * 0.55, "the rerun uploaded " + rerun + " of " + full + " bytes");
            DigestTarget t = Repos.restore(repo, id);
            assertEquals(DigestTarget.digestOf(RandomData.stream(3, SIZE)).getKey(), t.digests().get("s"));
            assertTrue(repo.check().ok(), repo.check().errors().toString());
        }
    }

    @Test
    void checkpoints_areWrittenEveryNPacks_whileTheBackupRuns() {
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = create(storage)) {
            storage.reset();
            backup(repo, new GeneratedSource().stream("s", () -> RandomData.stream(4, 12L * 1024 * 1024)), 4).backup();
            long packs = storage.requests("put", "data/");
            long indexes = storage.requests("put", "index/");
            // one index per 4 packs while running, one for the rest at the end
            assertEquals((packs + 3) / 4, indexes, storage.counters().toString());
            assertTrue(repo.check().ok());
        }
    }
}
