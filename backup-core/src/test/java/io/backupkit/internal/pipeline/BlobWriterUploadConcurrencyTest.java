package io.backupkit.internal.pipeline;

import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.PackEntry;
import io.backupkit.internal.repo.PackWriter;
import io.backupkit.spi.Storage;
import io.backupkit.testkit.InterceptingStorage;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Lanes must not cost upload concurrency they do not use, nor memory: with storage slower than the
 * workers, {@code streams} streams at once keep as many packs uploading at once as the packs-in-memory
 * bound leaves after the lanes they actually fill, and never hold more than {@code uploadThreads + 1}
 * packs.
 */
class BlobWriterUploadConcurrencyTest {
    private static final int CHUNK = 128 * 1024;
    private static final int PACK = 1024 * 1024;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} stream(s), parallelism {1}")
    @CsvSource({"1, 2", "1, 4", "2, 4", "4, 4", "8, 8"})
    void slowStorage_usesTheUploadSlotsItsLanesLeave_andHoldsAtMostUploadThreadsPlusOnePacks(int streams, int parallelism)
            throws Exception {
        AtomicInteger putting = new AtomicInteger();
        AtomicInteger peakPutting = new AtomicInteger();
        Storage slow = new InterceptingStorage(LocalStorage.of(dir.resolve("repo"))).beforePut(name -> {
            if (name.startsWith("data/")) {
                peakPutting.accumulateAndGet(putting.incrementAndGet(), Math::max);
                try {
                    Thread.sleep(150);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                } finally {
                    putting.decrementAndGet();
                }
            }
        });
        try (Repository r = Repository.builder().storage(slow)
                .keyProvider(KeyProviders.password("correct horse battery staple".toCharArray(), 19 * 1024, 2, 1))
                .packSize(PACK).chunkSizes(32 * 1024, 64 * 1024, CHUNK).create()) {
            DefaultRepository repo = (DefaultRepository) r;
            int chunksPerStream = 96 / streams;
            int uploadThreads = Math.max(2, parallelism);
            List<PackEntry> packs;
            int peak;
            int lanes;
            ExecutorService pool = Executors.newFixedThreadPool(streams);
            try (BlobWriter w = new BlobWriter(repo, parallelism, stored -> { }, what -> { }, BlobWriter.Checkpoints.DEFAULT)) {
                lanes = w.laneCount();
                List<CompletableFuture<Void>> writers = new ArrayList<>();
                for (int s = 0; s < streams; s++) {
                    int stream = s;
                    writers.add(CompletableFuture.runAsync(() -> LaneStream.write(w, stream, chunksPerStream, CHUNK, false)
                            .forEach(CompletableFuture::join), pool));
                }
                CompletableFuture.allOf(writers.toArray(CompletableFuture[]::new)).join();
                packs = w.finish();
                peak = w.peakPacksInMemory();
                assertEquals(0, w.packsInMemory(), "packs in memory after finish");
                assertEquals(uploadThreads + 1, w.freePackPermits(), "pack permits free after finish");
            } finally {
                pool.shutdownNow();
            }
            assertTrue(peak <= uploadThreads + 1, "packs in memory at once: " + peak + ", at most " + (uploadThreads + 1));
            int filled = Math.min(streams, lanes);
            int expectedUploads = Math.min(uploadThreads, uploadThreads + 1 - filled);
            assertTrue(peakPutting.get() >= expectedUploads, "packs stored at once: " + peakPutting.get() + ", "
                    + expectedUploads + " expected with " + filled + " of " + lanes + " lanes filling");
            assertEquals(slow.list("data/").size(), packs.size(), "every stored pack is indexed");
            int blobs = 0;
            for (PackEntry p : packs) {
                blobs += p.blobs().size();
                assertEquals(p.blobs(), PackWriter.readTrailer(p.pack(), slow.readAll(p.pack()), repo.sealer()));
            }
            assertEquals(streams * chunksPerStream, blobs, "every blob stored once");
        }
    }

    /**
     * A pack that cannot be stored while every lane is filling and workers wait for permits (with the
     * writer's monitor held): the permit comes back, the streams see the failure at their next chunk, and
     * finish reports it instead of hanging; the lanes' last packs are not stored.
     */
    @ParameterizedTest(name = "{0} stream(s), parallelism {1}")
    @CsvSource({"2, 2", "4, 4", "8, 4"})
    void aPackThatCannotBeStored_failsTheWriter_withoutHanging(int streams, int parallelism) throws Exception {
        AtomicInteger puts = new AtomicInteger();
        Storage failing = new InterceptingStorage(LocalStorage.of(dir.resolve("repo"))).beforePut(name -> {
            if (name.startsWith("data/")) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                if (puts.incrementAndGet() == 3) {
                    throw new io.backupkit.StorageException("disk full (test)", false, null);
                }
            }
        });
        try (Repository r = Repository.builder().storage(failing)
                .keyProvider(KeyProviders.password("correct horse battery staple".toCharArray(), 19 * 1024, 2, 1))
                .packSize(PACK).chunkSizes(32 * 1024, 64 * 1024, CHUNK).create()) {
            DefaultRepository repo = (DefaultRepository) r;
            ExecutorService pool = Executors.newFixedThreadPool(streams);
            org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(60), () -> {
                try (BlobWriter w = new BlobWriter(repo, parallelism, stored -> { }, what -> { }, BlobWriter.Checkpoints.DEFAULT)) {
                    List<CompletableFuture<Void>> writers = new ArrayList<>();
                    for (int s = 0; s < streams; s++) {
                        int stream = s;
                        // the failure is seen at a later chunk
                        writers.add(CompletableFuture.runAsync(() -> LaneStream.write(w, stream, 200, CHUNK, true), pool));
                    }
                    CompletableFuture.allOf(writers.toArray(CompletableFuture[]::new)).join();
                    io.backupkit.BackupException e = org.junit.jupiter.api.Assertions.assertThrows(io.backupkit.BackupException.class,
                            w::finish);
                    assertTrue(String.valueOf(e.getMessage()).contains("disk full")
                            || e.getCause() != null && String.valueOf(e.getCause().getMessage()).contains("disk full"), e.toString());
                } finally {
                    pool.shutdownNow();
                }
            });
        }
    }
}
