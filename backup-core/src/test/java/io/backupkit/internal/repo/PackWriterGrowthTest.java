package io.backupkit.internal.repo;

import io.backupkit.internal.crypto.Sealer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A pack's buffer grows with its content (doubling up to 8 MiB, then to the full size) for every pack size
 * and largest chunk a repository allows, as BlobWriter fills it: blobs until the pack size is reached, then
 * the trailer. The pack reads back, and the buffer never grows past the full size.
 */
class PackWriterGrowthTest {
    private static final Sealer SEALER = Sealer.aesGcm(new byte[32]);

    @ParameterizedTest(name = "pack {0} MiB, largest chunk {1} KiB, blobs of {2} bytes")
    @CsvSource({
            "1, 64, 65536", "1, 16384, 16777216", "1, 2048, 5000",
            "16, 2048, 2097152", "16, 2048, 300000", "16, 2048, 5000", "16, 16384, 16777216",
            "64, 16384, 16777216", "64, 16384, 3000000", "64, 2048, 2097152", "64, 64, 65536"})
    void aFullPack_growsToAtMostItsFullSize_andReadsBack(int packMiB, int maxChunkKiB, int blobBytes) {
        int packSize = packMiB << 20;
        int maxChunk = maxChunkKiB << 10;
        // as BlobWriter.newPack
        int expected = packSize + maxChunk + 64 * 1024;
        PackWriter w = new PackWriter(Math.min(expected, 1024 * 1024), expected);
        Random random = new Random(packMiB * 31L + blobBytes);
        byte[] payload = new byte[Math.min(blobBytes, maxChunk) + 1];
        random.nextBytes(payload);
        List<BlobId> ids = new ArrayList<>();
        while (w.size() < packSize) {
            byte[] id = new byte[BlobId.BYTES];
            random.nextBytes(id);
            BlobId blobId = BlobId.of(id);
            w.seal(blobId, SEALER, payload, 0, payload.length, payload.length - 1);
            ids.add(blobId);
        }
        PackWriter.Finished f = w.finish(SEALER);
        List<PackEntry.Blob> blobs = PackWriter.readTrailer(f.entry().pack(), java.util.Arrays.copyOf(f.bytes(), f.length()), SEALER);
        assertEquals(ids.size(), blobs.size());
        assertTrue(f.bytes().length <= expected || blobs.size() * PackEntry.ENTRY_BYTES > maxChunk,
                "buffer of " + f.bytes().length + " bytes for a pack of " + f.length() + ", full size " + expected);
    }

    /** Merging a backup's last packs sizes the buffer for what they hold, not for a full pack. */
    @Test
    void merging_sizesTheBufferForTheMergedBlobs_andTheTrailerReadsBack() {
        int expected = (16 << 20) + (2 << 20) + 64 * 1024;
        Random random = new Random(7);
        PackWriter a = filled(expected, 5 << 20, random);
        PackWriter b = filled(expected, 5 << 20, random);
        int blobs = a.blobCount() + b.blobCount();
        a.appendAll(b);
        PackWriter.Finished f = a.finish(SEALER);
        assertEquals(blobs, PackWriter.readTrailer(f.entry().pack(), java.util.Arrays.copyOf(f.bytes(), f.length()), SEALER).size());
        assertTrue(f.bytes().length < (11 << 20), "merged buffer of " + f.bytes().length + " bytes for " + f.length());
    }

    private static PackWriter filled(int expected, int bytes, Random random) {
        PackWriter w = new PackWriter(1024 * 1024, expected);
        byte[] payload = new byte[5001];
        while (w.size() < bytes) {
            random.nextBytes(payload);
            byte[] id = new byte[BlobId.BYTES];
            random.nextBytes(id);
            w.seal(BlobId.of(id), SEALER, payload, 0, payload.length, payload.length - 1);
        }
        return w;
    }
}
