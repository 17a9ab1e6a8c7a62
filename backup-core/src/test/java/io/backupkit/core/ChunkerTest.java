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
        try (ChunkingOutputStream s = new ChunkingOutputStream(CHUNKER, out::add)) {
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
