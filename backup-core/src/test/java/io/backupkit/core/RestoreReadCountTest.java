package io.backupkit.core;

import io.backupkit.BackupManager;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.Snapshot;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.BackupSource;
import io.backupkit.testkit.DigestTarget;
import io.backupkit.testkit.GeneratedSource;
import io.backupkit.testkit.InterceptingStorage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A backup of parallel streams interleaves their blobs in a pack; a restore reads each stream with
 * few ranged reads all the same (reading the small gaps of other streams' blobs), since every request
 * costs an S3 round trip and the SDK's per-request work. Dump-like text compresses ~100x, so its blobs
 * are a few KiB and a read per blob or two would be thousands of requests.
 */
class RestoreReadCountTest {
    private static final int STREAMS = 4;
    private static final int ROUNDS = 24;
    private static final int ROUND_BYTES = 256 * 1024;

    @TempDir
    Path dir;

    @Test
    void interleavedStreams_areReadWithFewRangedReads_andRestoreIntact() throws IOException {
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = Repos.encrypted(storage).create()) {
            Snapshot snap = BackupManager.builder().repository(repo).source(new Interleaved()).parallelism(2).build().backup().snapshot();
            List<io.backupkit.spi.ObjectInfo> packList = storage.list("data/");
            long packs = packList.size();
            long packBytes = packList.stream().mapToLong(io.backupkit.spi.ObjectInfo::size).sum();
            storage.reset();
            DigestTarget target = Repos.restore(repo, snap.id());

            for (int s = 0; s < STREAMS; s++) {
                Map.Entry<String, Long> want = DigestTarget.digestOf(new ByteArrayInputStream(content(s)));
                assertEquals(want.getValue(), target.sizes().get("s" + s), "size of stream s" + s);
                assertEquals(want.getKey(), target.digests().get("s" + s), "content of stream s" + s);
            }
            long reads = storage.requests("get", "data/");
            long stored = storage.bytes("get", "data/");
            // 6 MiB per stream, under the 8 MiB a read may decode ahead: per stream and pack, one read of its
            // list of blob ids and one of its data (46 reads in all when only back-to-back blobs were read together)
            assertEquals(1, packs, "the test data fits one pack");
            assertTrue(reads <= 2 * STREAMS, "data reads: " + reads + " for " + STREAMS + " streams; " + storage.counters());
            // the gaps read are other streams' blobs: each stream reads at most the packs' bytes
            assertTrue(stored <= STREAMS * packBytes, "read " + stored + " bytes of " + packBytes + " stored; " + storage.counters());
        }
    }

    /** Row-like text, distinct per stream, low entropy like a pgbench dump (compresses well). */
    private static byte[] content(int stream) {
        StringBuilder b = new StringBuilder();
        for (int r = 0; r < ROUNDS; r++) {
            b.append(round(stream, r));
        }
        return b.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static String round(int stream, int r) {
        StringBuilder b = new StringBuilder(ROUND_BYTES + 100);
        int i = r * 10_000;
        while (b.length() < ROUND_BYTES) {
            b.append(i++).append('\t').append(stream).append("\t0\t                                        \n");
        }
        return b.toString();
    }

    /** Writes its streams a round at a time each, in turn: their chunks end up interleaved in the pack. */
    private static final class Interleaved implements BackupSource {
        @Override
        public String engine() {
            return GeneratedSource.ENGINE;
        }

        @Override
        public String describe() {
            return "interleaved streams";
        }

        @Override
        public void backup(BackupContext context) {
            List<OutputStream> outs = new ArrayList<>();
            try {
                for (int s = 0; s < STREAMS; s++) {
                    outs.add(context.newStream("s" + s));
                }
                for (int r = 0; r < ROUNDS; r++) {
                    for (int s = 0; s < STREAMS; s++) {
                        outs.get(s).write(round(s, r).getBytes(StandardCharsets.US_ASCII));
                    }
                }
                for (OutputStream o : outs) {
                    o.close();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
