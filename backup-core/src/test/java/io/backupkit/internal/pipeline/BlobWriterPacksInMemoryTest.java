package io.backupkit.internal.pipeline;

import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.internal.repo.BlobId;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.PackEntry;
import io.backupkit.spi.ObjectInfo;
import io.backupkit.spi.Payload;
import io.backupkit.spi.Storage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
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
        Storage slow = new SlowPacks(LocalStorage.of(dir.resolve("repo")));
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

    /** Stores packs (data/) in 100 ms each: slower than the workers fill them. */
    private static final class SlowPacks implements Storage {
        private final Storage delegate;

        SlowPacks(Storage delegate) {
            this.delegate = delegate;
        }

        @Override
        public String location() {
            return delegate.location();
        }

        @Override
        public boolean putIfAbsent(String name, Payload payload) {
            if (name.startsWith("data/")) {
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
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
