package io.backupkit.internal.pipeline;

import io.backupkit.BackupException;
import io.backupkit.internal.repo.BlobId;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

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
        BlobWriter.StreamStats stats = new BlobWriter.StreamStats();
        int lane = w.openLane();
        stats.lane = lane;
        Random random = new Random(seed);
        List<CompletableFuture<BlobId>> ids = new ArrayList<>();
        try {
            for (int i = 0; i < chunks; i++) {
                byte[] chunk = new byte[size];
                random.nextBytes(chunk);
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
}
