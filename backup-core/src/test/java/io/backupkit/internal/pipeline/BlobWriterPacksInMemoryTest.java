package io.backupkit.internal.pipeline;

import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.internal.repo.BlobId;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.PackEntry;
import io.backupkit.spi.Storage;
import io.backupkit.testkit.InterceptingStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The heap a backup needs is bounded by the packs it holds: with storage slower than the source, at most
 * one pack being filled and one per upload thread. A worker that filled a pack used to wait for an upload
 * slot while holding it, and the other workers went on filling the next one, so up to one full pack per
 * worker more was in memory (5 instead of 3 at parallelism 2: 36 MiB more with 16 MiB packs).
 */
class BlobWriterPacksInMemoryTest {
    private static final int CHUNK = 128 * 1024;

    @TempDir
    Path dir;

    @Test
    void slowStorage_holdsAtMostOnePackPerUploadThreadAndTheOneBeingFilled() {
        // packs (data/) stored in 100 ms each: slower than the workers fill them
        Storage slow = new InterceptingStorage(LocalStorage.of(dir.resolve("repo"))).beforePut(name -> {
            if (name.startsWith("data/")) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
        });
        try (Repository r = Repository.builder().storage(slow)
                .keyProvider(KeyProviders.password("correct horse battery staple".toCharArray(), 19 * 1024, 2, 1))
                .packSize(1024 * 1024).chunkSizes(32 * 1024, 64 * 1024, CHUNK).create()) {
            DefaultRepository repo = (DefaultRepository) r;
            int parallelism = 2;
            List<PackEntry> rest;
            int peak;
            try (BlobWriter w = new BlobWriter(repo, parallelism, stored -> { }, what -> { }, BlobWriter.Checkpoints.DEFAULT)) {
                BlobWriter.StreamStats stats = new BlobWriter.StreamStats();
                Random random = new Random(12);
                List<CompletableFuture<BlobId>> ids = new ArrayList<>();
                // 12 MiB of incompressible chunks: 12 packs of 1 MiB, each stored in 100 ms, produced much faster
                for (int i = 0; i < 96; i++) {
                    byte[] chunk = new byte[CHUNK];
                    random.nextBytes(chunk);
                    ids.add(w.submit(chunk, stats));
                }
                CompletableFuture.allOf(ids.toArray(CompletableFuture[]::new)).join();
                rest = w.finish();
                peak = w.peakPacksInMemory();
                assertEquals(96, stats.newBlobs.get());
            }
            int uploadThreads = Math.max(2, parallelism);
            assertTrue(peak <= uploadThreads + 1, "packs in memory at once: " + peak + ", at most " + (uploadThreads + 1) + " expected");
            assertTrue(peak >= 2, "the storage was not slow enough to test anything: at most " + peak + " pack(s) at once");
            assertEquals(slow.list("data/").size(), rest.size(), "every stored pack is indexed");
        }
    }
}
