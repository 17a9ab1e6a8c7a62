package io.backupkit.internal.pipeline;

import io.backupkit.BackupException;
import io.backupkit.internal.repo.BlobId;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** A stream of random chunks written straight to a {@link BlobWriter} in a lane of its own, as StreamWriter does. */
final class LaneStream {
    private LaneStream() {
    }

    /**
     * Takes a lane, submits {@code chunks} chunks of {@code size} random bytes drawn from {@code seed}, waits
     * for every one (failed ones too) and gives the lane back.
     *
     * @param stopAtFailure end at the first submit the writer refuses (it failed) instead of throwing
     * @return the submitted chunks' futures, in order
     */
    static List<CompletableFuture<BlobId>> write(BlobWriter w, long seed, int chunks, int size, boolean stopAtFailure) {
        Random random = new Random(seed);
        List<byte[]> data = new ArrayList<>();
        for (int i = 0; i < chunks; i++) {
            byte[] chunk = new byte[size];
            random.nextBytes(chunk);
            data.add(chunk);
        }
        return write(w, data, stopAtFailure);
    }

    /** As {@link #write(BlobWriter, long, int, int, boolean)}, with the chunks given (the writer only reads them). */
    static List<CompletableFuture<BlobId>> write(BlobWriter w, List<byte[]> chunks, boolean stopAtFailure) {
        BlobWriter.StreamStats stats = new BlobWriter.StreamStats();
        int lane = w.openLane();
        stats.lane = lane;
        List<CompletableFuture<BlobId>> ids = new ArrayList<>();
        try {
            for (byte[] chunk : chunks) {
                ids.add(w.submit(chunk, stats));
            }
        } catch (BackupException e) {
            if (!stopAtFailure) {
                throw e;
            }
        } finally {
            for (CompletableFuture<BlobId> f : ids) {
                f.handle((v, e) -> null).join();
            }
            w.closeLane(lane);
        }
        return ids;
    }

    /**
     * Writes each of {@code streams} at once, on a thread and in a lane of its own, as {@link #write(BlobWriter,
     * List, boolean)} does; returns when every stream has (without {@code stopAtFailure}, throws if one failed).
     */
    static void writeAtOnce(BlobWriter w, List<List<byte[]>> streams, boolean stopAtFailure) {
        ExecutorService pool = Executors.newFixedThreadPool(streams.size());
        try {
            List<CompletableFuture<Void>> writers = new ArrayList<>();
            for (List<byte[]> chunks : streams) {
                writers.add(CompletableFuture.runAsync(() -> {
                    for (CompletableFuture<BlobId> f : write(w, chunks, stopAtFailure)) {
                        if (!stopAtFailure) {
                            f.join();
                        }
                    }
                }, pool));
            }
            CompletableFuture.allOf(writers.toArray(CompletableFuture[]::new)).join();
        } finally {
            pool.shutdownNow();
        }
    }
}
