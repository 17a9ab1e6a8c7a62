package io.backupkit.internal.pipeline;

import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.internal.repo.DefaultRepository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A stream takes the least-used lane at its first chunk and gives it back when closed, so a stream that
 * starts while another is still writing gets the lane a closed one left, not the busy one's.
 */
class StreamWriterLanesTest {
    @TempDir
    Path dir;

    @Test
    void aStreamTakesALaneAtItsFirstChunk_andItsCloseFreesItForTheNext() throws IOException {
        try (Repository r = Repository.builder().storage(LocalStorage.of(dir.resolve("repo")))
                .keyProvider(KeyProviders.password("correct horse battery staple".toCharArray(), 19 * 1024, 2, 1))
                .packSize(1024 * 1024).chunkSizes(16 * 1024, 32 * 1024, 64 * 1024).create()) {
            DefaultRepository repo = (DefaultRepository) r;
            try (BlobWriter w = new BlobWriter(repo, 2, stored -> { }, what -> { }, BlobWriter.Checkpoints.DEFAULT)) {
                StreamWriter a = stream(repo, w, "a");
                StreamWriter b = stream(repo, w, "b");
                assertEquals(-1, a.lane(), "no lane before the first chunk");
                write(a, 1);
                write(b, 2);
                assertEquals(0, a.lane(), "first stream");
                assertEquals(1, b.lane(), "second stream, beside the first");
                b.close();
                assertEquals(-1, b.lane(), "a closed stream holds no lane");
                StreamWriter c = stream(repo, w, "c");
                write(c, 3);
                assertEquals(1, c.lane(), "the lane b left, not a's");
                a.close();
                c.close();
                StreamWriter d = stream(repo, w, "d");
                write(d, 4);
                assertEquals(0, d.lane(), "all lanes free again: the lowest");
                d.close();
                w.finish();
            }
        }
    }

    private static StreamWriter stream(DefaultRepository repo, BlobWriter w, String name) {
        return new StreamWriter(name, repo.chunker(), w, repo.hashesChunksOnce(), n -> { });
    }

    /** 256 KiB of random bytes: several chunks, so the stream has submitted at least one. */
    private static void write(StreamWriter s, long seed) throws IOException {
        byte[] data = new byte[256 * 1024];
        new Random(seed).nextBytes(data);
        s.write(data, 0, data.length);
    }
}
