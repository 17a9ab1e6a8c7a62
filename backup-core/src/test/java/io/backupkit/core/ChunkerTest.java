package io.backupkit.core;

import io.backupkit.internal.chunker.ChunkingOutputStream;
import io.backupkit.internal.chunker.FastCdcChunker;
import io.backupkit.testkit.DumpLikeData;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChunkerTest {
    private static final FastCdcChunker CHUNKER = new FastCdcChunker(16 * 1024, 64 * 1024, 256 * 1024, FastCdcChunker.DEFAULT_NORMALIZATION, 42);

    private static List<byte[]> chunks(byte[] data, int writeSize) throws IOException {
        List<byte[]> out = new ArrayList<>();
        try (ChunkingOutputStream s = new ChunkingOutputStream(CHUNKER, c -> {
            out.add(java.util.Arrays.copyOf(c.data(), c.length()));
            c.release();
        })) {
            for (int i = 0; i < data.length; i += writeSize) {
                s.write(data, i, Math.min(writeSize, data.length - i));
            }
        }
        return out;
    }

    private static String key(byte[] chunk) {
        return io.backupkit.internal.crypto.Hashes.sha256Hex(chunk);
    }

    private static byte[] text(long seed, int n) throws IOException {
        try (InputStream in = DumpLikeData.stream(seed, n)) {
            return in.readAllBytes();
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 4096, 1 << 20})
    void chunksConcatenateToInput_withinSizeBounds_whateverTheWriteSize(int writeSize) throws IOException {
        byte[] data = text(writeSize, 3 * 1024 * 1024 + 5);
        List<byte[]> chunks = chunks(data, writeSize);
        ByteArrayOutputStream joined = new ByteArrayOutputStream();
        for (int i = 0; i < chunks.size(); i++) {
            byte[] c = chunks.get(i);
            assertTrue(c.length <= CHUNKER.max());
            assertTrue(c.length >= CHUNKER.min() || i == chunks.size() - 1, "only the last chunk may be short");
            joined.write(c);
        }
        assertArrayEquals(data, joined.toByteArray());
        assertTrue(chunks.size() > 10, "3 MiB should give dozens of 64 KiB-average chunks");
    }

    /** Cut points by the reference {@code cut} over the whole input, as the first backupkit found them. */
    private static List<Integer> referenceCuts(FastCdcChunker chunker, byte[] data) {
        List<Integer> cuts = new ArrayList<>();
        int off = 0;
        while (off < data.length) {
            int n = chunker.cut(data, off, data.length - off);
            cuts.add(n);
            off += n;
        }
        return cuts;
    }

    /**
     * The streaming scanner must cut exactly where {@code cut} does, whatever the write sizes: a
     * repository's chunks (and so its deduplication against blobs stored by earlier versions)
     * depend on it. Seeded random sizes, normalization levels, data and write patterns.
     */
    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void streamingCuts_equalReferenceCuts_forAnyWriteSizes(long seed) throws IOException {
        Random r = new Random(seed);
        int avg = 1 << (8 + r.nextInt(8));               // 256 B .. 32 KiB
        int min = Math.max(64, avg / (1 + r.nextInt(8)));
        int max = avg * (1 + r.nextInt(8));
        FastCdcChunker chunker = new FastCdcChunker(min, avg, max, r.nextInt(4), r.nextLong());
        byte[] data = r.nextBoolean() ? text(seed, 200_000 + r.nextInt(300_000)) : new byte[200_000 + r.nextInt(300_000)];
        if (data[0] == 0) {
            r.nextBytes(data);
            if (r.nextBoolean()) {
                java.util.Arrays.fill(data, 1000, 1000 + r.nextInt(100_000), (byte) ' '); // long runs never cut before max
            }
        }
        List<Integer> expected = referenceCuts(chunker, data);
        List<Integer> got = new ArrayList<>();
        try (ChunkingOutputStream s = new ChunkingOutputStream(chunker, c -> {
            got.add(c.length());
            c.release();
        })) {
            int off = 0;
            while (off < data.length) {
                int n = Math.min(data.length - off, r.nextInt(4) == 0 ? 1 + r.nextInt(8) : 1 + r.nextInt(3 * max));
                if (n == 1) {
                    s.write(data[off]);
                } else {
                    s.write(data, off, n);
                }
                off += n;
            }
        }
        org.junit.jupiter.api.Assertions.assertEquals(expected, got, "min " + min + " avg " + avg + " max " + max);
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void insertNearStart_changesOnlyNearbyChunks(long seed) throws IOException {
        byte[] data = text(seed, 4 * 1024 * 1024);
        byte[] insert = new byte[1000];
        new Random(seed).nextBytes(insert);
        int at = 100_000;
        byte[] edited = new byte[data.length + insert.length];
        System.arraycopy(data, 0, edited, 0, at);
        System.arraycopy(insert, 0, edited, at, insert.length);
        System.arraycopy(data, at, edited, at + insert.length, data.length - at);

        Set<String> before = new HashSet<>();
        chunks(data, 65536).forEach(c -> before.add(key(c)));
        List<byte[]> after = chunks(edited, 65536);
        long newBytes = after.stream().filter(c -> !before.contains(key(c)))
                .mapToLong(c -> c.length).sum();
        assertTrue(newBytes < 4L * CHUNKER.avg(), "an insert re-chunked " + newBytes + " bytes");
    }
}
