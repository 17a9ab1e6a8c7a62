package io.backupkit.internal.repo;

import io.backupkit.internal.crypto.Sealer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

    /**
     * A pack filled in the buffer of an earlier pack (its bytes still there) is byte for byte the pack filled
     * in a new buffer: same name, same length, same bytes. Sealed without encryption, so
     * the same blobs seal the same way.
     */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4})
    void aPackInAUsedBuffer_isByteForByteThePackInANewOne(long seed) {
        Sealer sealer = Sealer.checksumOnly();
        int expected = (1 << 20) + (64 << 10) + 64 * 1024;
        Random random = new Random(seed);
        PackWriter earlier = new PackWriter(1024 * 1024, expected);
        fill(earlier, sealer, 1 << 20, new Random(seed + 100), 1, 64 << 10);
        byte[] used = earlier.finish(sealer).bytes();
        long blobsSeed = random.nextLong();
        int bytes = 1 + random.nextInt(1 << 20);
        PackWriter fresh = new PackWriter(1024 * 1024, expected);
        fill(fresh, sealer, bytes, new Random(blobsSeed), 1, 64 << 10);
        PackWriter reused = new PackWriter(used, expected);
        fill(reused, sealer, bytes, new Random(blobsSeed), 1, 64 << 10);
        PackWriter.Finished a = fresh.finish(sealer);
        PackWriter.Finished b = reused.finish(sealer);
        assertSamePack(a, b);
        assertEquals(0, reused.bytesAllocated(), "the used buffer was large enough");
    }

    /**
     * A pack filled in segments is byte for byte the pack filled in one array, merged or not, with blobs
     * from a few bytes to larger than a segment; its segments take about what it holds (no copies while it
     * fills), and merging packs in segments copies nothing until the one array the merged pack is gathered into.
     */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4})
    void aPackInSegments_isByteForByteThePackInOneArray_andAllocatesAboutItsSize(long seed) {
        Sealer sealer = Sealer.checksumOnly();
        int expected = (16 << 20) + (2 << 20) + 64 * 1024;
        int maxPayload = seed % 2 == 0 ? 64 << 10 : (2 << 20) + 1;
        Random random = new Random(seed);
        int first = 1 + random.nextInt(5 << 20);
        int second = 1 + random.nextInt(5 << 20);
        long firstSeed = random.nextLong();
        long secondSeed = random.nextLong();

        PackWriter array = new PackWriter(1024 * 1024, expected);
        fill(array, sealer, first, new Random(firstSeed), 1, maxPayload);
        PackWriter arrayOther = new PackWriter(1024 * 1024, expected);
        fill(arrayOther, sealer, second, new Random(secondSeed), 1, maxPayload);
        array.appendAll(arrayOther);

        List<Integer> asked = new ArrayList<>();
        PackWriter segments = PackWriter.inSegments(expected, recording(asked));
        fill(segments, sealer, first, new Random(firstSeed), 1, maxPayload);
        PackWriter segmentsOther = PackWriter.inSegments(expected, n -> {
            throw new AssertionError("a pack merged into another is not gathered");
        });
        fill(segmentsOther, sealer, second, new Random(secondSeed), 1, maxPayload);
        long filled = segments.bytesAllocated() + segmentsOther.bytesAllocated();
        // each segment but the last of a pack is at least 1 MiB minus the largest sealed blob full
        long held = segments.size() + segmentsOther.size();
        assertTrue(filled <= 2 * held + 2L * PackWriter.SEGMENT, filled + " bytes of segments for " + held + " bytes of blobs");
        if (maxPayload < PackWriter.SEGMENT / 8) {
            assertTrue(filled <= held * 9 / 8 + 2L * PackWriter.SEGMENT, filled + " bytes of segments for " + held + " bytes of small blobs");
        }
        segments.appendAll(segmentsOther);
        assertEquals(filled, segments.bytesAllocated() + segmentsOther.bytesAllocated(), "the merge copied nothing");

        PackWriter.Finished a = array.finish(sealer);
        PackWriter.Finished b = segments.finish(sealer);
        assertSamePack(a, b);
        assertEquals(List.of(b.length()), asked, "one array, of the pack's size");
        assertEquals(a.entry().blobs().size(), PackWriter.readTrailer(b.entry().pack(), java.util.Arrays.copyOf(b.bytes(), b.length()), sealer).size());
    }

    /**
     * A pack in segments that grows past 8 MiB (one that fills, as the first packs of a backup of data
     * that does not compress) goes into one array of the full size then, once, and comes out byte for byte
     * as the pack filled in one array; its segments took no more than 8 MiB and a blob.
     */
    @ParameterizedTest(name = "blobs up to {0} bytes")
    @ValueSource(ints = {5000, 300000, 2097153})
    void aPackInSegmentsThatFills_goesIntoOneFullSizeArray_once(int maxPayload) {
        Sealer sealer = Sealer.checksumOnly();
        int expected = (16 << 20) + (2 << 20) + 64 * 1024;
        PackWriter array = new PackWriter(1024 * 1024, expected);
        fill(array, sealer, 16 << 20, new Random(maxPayload), 1, maxPayload);
        List<Integer> asked = new ArrayList<>();
        PackWriter segments = PackWriter.inSegments(expected, recording(asked));
        fill(segments, sealer, 16 << 20, new Random(maxPayload), 1, maxPayload);
        assertTrue(segments.bytesAllocated() <= (8 << 20) + 2L * maxPayload + PackWriter.SEGMENT,
                segments.bytesAllocated() + " bytes of segments");
        PackWriter.Finished a = array.finish(sealer);
        PackWriter.Finished b = segments.finish(sealer);
        assertSamePack(a, b);
        assertEquals(List.of(expected), asked, "one array, of the full size");
    }

    /**
     * A pack in segments holds at most 8 MiB of segments, unused ends included, before it moves into its
     * full-size array (as the old buffer's 8 MiB): blobs of just over half a segment leave half of each
     * unused, and a pack moved at 8 MiB of its own bytes held ~15 MiB of segments beside the new array. The
     * pack is still byte for byte the pack in one array, and blobs added (the lanes' merge) count the same.
     */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6})
    void aPackInSegments_holdsAtMost8MiBOfSegments_beforeItMoves(long seed) {
        Sealer sealer = Sealer.checksumOnly();
        int expected = (16 << 20) + (2 << 20) + 64 * 1024;
        Random random = new Random(seed);
        // half the seeds: blobs just over half a segment (the worst case); the others: from 1 byte to 3 MiB
        int min = seed % 2 == 0 ? PackWriter.SEGMENT / 2 : 1;
        int max = seed % 2 == 0 ? PackWriter.SEGMENT / 2 + 4096 : 3 << 20;
        long blobsSeed = random.nextLong();
        PackWriter array = new PackWriter(1024 * 1024, expected);
        fill(array, sealer, 16 << 20, new Random(blobsSeed), min, max);
        long[] segmentsAtMove = {-1};
        PackWriter[] segments = new PackWriter[1];
        segments[0] = PackWriter.inSegments(expected, n -> {
            segmentsAtMove[0] = segments[0].bytesAllocated();
            return new byte[n];
        });
        fill(segments[0], sealer, 16 << 20, new Random(blobsSeed), min, max, random.nextBoolean());
        assertTrue(segmentsAtMove[0] > 0 && segmentsAtMove[0] <= 8 << 20, segmentsAtMove[0] + " bytes of segments when the pack moved");
        PackWriter.Finished a = array.finish(sealer);
        PackWriter.Finished b = segments[0].finish(sealer);
        assertSamePack(a, b);
    }

    /**
     * Merging a pack in one array into a pack in segments (a lane that found a stored pack's buffer and one
     * that did not) past 8 MiB gathers the segments into one array of what the merged pack needs, not of the
     * full size, and the pack is byte for byte the one merged in arrays.
     */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4})
    void mergingAnArrayIntoSegments_pastEightMiB_gathersWhatTheMergedPackNeeds(long seed) {
        Sealer sealer = Sealer.checksumOnly();
        int expected = (16 << 20) + (2 << 20) + 64 * 1024;
        Random random = new Random(seed);
        // the pack in segments stays under 8 MiB of segments (blobs of at most 64 KiB leave little unused)
        int first = (5 << 20) + random.nextInt(2 << 20);
        int second = (3 << 20) + random.nextInt(2 << 20);
        long firstSeed = random.nextLong();
        long secondSeed = random.nextLong();
        PackWriter array = new PackWriter(1024 * 1024, expected);
        fill(array, sealer, first, new Random(firstSeed), 1, 64 << 10);
        PackWriter arrayOther = new PackWriter(1024 * 1024, expected);
        fill(arrayOther, sealer, second, new Random(secondSeed), 1, 64 << 10);
        array.appendAll(arrayOther);
        List<Integer> asked = new ArrayList<>();
        PackWriter segments = PackWriter.inSegments(expected, recording(asked));
        fill(segments, sealer, first, new Random(firstSeed), 1, 64 << 10);
        PackWriter other = new PackWriter(1024 * 1024, expected);
        fill(other, sealer, second, new Random(secondSeed), 1, 64 << 10);
        segments.appendAll(other);
        PackWriter.Finished a = array.finish(sealer);
        PackWriter.Finished b = segments.finish(sealer);
        assertSamePack(a, b);
        assertEquals(1, asked.size(), "one array: " + asked);
        assertTrue(asked.get(0) >= b.length() && asked.get(0) < b.length() + (64 << 10), asked.get(0) + " bytes for a merged pack of " + b.length());
    }

    /** Seals random blobs of {@code [minPayload, maxPayload]} bytes into {@code w} until it holds {@code bytes}. */
    private static void fill(PackWriter w, Sealer sealer, int bytes, Random random, int minPayload, int maxPayload) {
        fill(w, sealer, bytes, random, minPayload, maxPayload, false);
    }

    /** The same, the blobs sealed aside and added ({@link PackWriter#add}, as the lanes' merge) when {@code viaAdd}. */
    private static void fill(PackWriter w, Sealer sealer, int bytes, Random random, int minPayload, int maxPayload, boolean viaAdd) {
        while (w.size() < bytes) {
            byte[] payload = new byte[minPayload + random.nextInt(maxPayload - minPayload + 1)];
            random.nextBytes(payload);
            byte[] id = new byte[BlobId.BYTES];
            random.nextBytes(id);
            if (viaAdd) {
                byte[] sealed = new byte[payload.length + sealer.overhead()];
                int n = sealer.seal(payload, 0, payload.length, id, sealed, 0);
                w.add(BlobId.of(id), sealed, 0, n, payload.length - 1);
            } else {
                w.seal(BlobId.of(id), sealer, payload, 0, payload.length, payload.length - 1);
            }
        }
    }

    /** Two finished packs are the same pack: same index entry (name, length, blobs), same bytes. */
    private static void assertSamePack(PackWriter.Finished a, PackWriter.Finished b) {
        assertEquals(a.entry(), b.entry());
        assertArrayEquals(java.util.Arrays.copyOf(a.bytes(), a.length()), java.util.Arrays.copyOf(b.bytes(), b.length()));
    }

    /** A finishArray that hands out new arrays and records the sizes asked. */
    private static java.util.function.IntFunction<byte[]> recording(List<Integer> asked) {
        return n -> {
            asked.add(n);
            return new byte[n];
        };
    }

    private static PackWriter filled(int expected, int bytes, Random random) {
        PackWriter w = new PackWriter(1024 * 1024, expected);
        fill(w, SEALER, bytes, random, 5001, 5001);
        return w;
    }
}
