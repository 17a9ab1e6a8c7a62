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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
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
    private static final int ROUND_BYTES = 256 * 1024;

    @TempDir
    Path dir;

    /**
     * 24 rounds: 6 MiB per stream, under the 8 MiB a stream may decode at once. 96 rounds: 24 MiB per stream
     * (~250 KiB stored), which a read's plaintext bound once cut into 3 reads per stream (16 in all): a read
     * now covers what its byte bounds allow and its blobs are decoded batch by batch.
     */
    @ParameterizedTest(name = "{0} rounds")
    @ValueSource(ints = {24, 96})
    void interleavedStreams_areReadWithFewRangedReads_andRestoreIntact(int rounds) throws IOException {
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = Repos.encrypted(storage).create()) {
            Snapshot snap = BackupManager.builder().repository(repo).source(new Interleaved(STREAMS, rounds, RestoreReadCountTest::round))
                    .parallelism(2).build().backup().snapshot();
            List<io.backupkit.spi.ObjectInfo> packList = storage.list("data/");
            long packs = packList.size();
            long packBytes = packList.stream().mapToLong(io.backupkit.spi.ObjectInfo::size).sum();
            storage.reset();
            DigestTarget target = Repos.restore(repo, snap.id());

            for (int s = 0; s < STREAMS; s++) {
                Map.Entry<String, Long> want = DigestTarget.digestOf(new ByteArrayInputStream(content(s, rounds, RestoreReadCountTest::round)));
                assertEquals(want.getValue(), target.sizes().get("s" + s), "size of stream s" + s);
                assertEquals(want.getKey(), target.digests().get("s" + s), "content of stream s" + s);
            }
            long reads = storage.requests("get", "data/");
            long stored = storage.bytes("get", "data/");
            // per stream, one read of its list of blob ids and, for its data, one read per MiB of the pack (a read
            // skips at most 1 MiB of other streams' blobs), whatever its data decompresses to (46 reads in all at
            // 24 rounds when only back-to-back blobs were read together; 20 at 96 rounds when a read also
            // stopped at 8 MiB of plaintext)
            assertEquals(1, packs, "the test data fits one pack");
            long bound = STREAMS + STREAMS * (1 + packBytes / (1024 * 1024));
            assertTrue(reads <= bound, "data reads: " + reads + " for " + STREAMS + " streams in a pack of " + packBytes
                    + " bytes; at most " + bound + " expected; " + storage.counters());
            // taking the restore's lock lists the locks but reads none: ours is known, and there is no other
            assertEquals(0, storage.requests("get", "locks/"), "lock objects read; " + storage.counters());
            // the gaps read are other streams' blobs: each stream reads at most the packs' bytes
            assertTrue(stored <= STREAMS * packBytes, "read " + stored + " bytes of " + packBytes + " stored; " + storage.counters());
        }
    }

    /**
     * Two streams of text that compresses little (random letters and digits: 5 MiB each, ~3.3 MiB stored),
     * written a round at a time in turn. Each stream fills packs of its own lane, so a restore reads each
     * stream's blobs with reads that cover nothing of the other's: about one read per 4 MiB of the stream
     * (4 reads), and no more bytes than the packs hold. Interleaved in a shared pack (bc9daba), the same
     * restore read 8 ranges and 1.5 × the packs' bytes.
     */
    @org.junit.jupiter.api.Test
    void parallelStreams_fillPacksOfTheirOwn_soARestoreReadsEachWithoutTheOther() throws IOException {
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        int rounds = 20;
        try (Repository repo = Repos.encrypted(storage).create()) {
            Snapshot snap = BackupManager.builder().repository(repo).source(new Interleaved(2, rounds, RestoreReadCountTest::randomRound))
                    .parallelism(2).build().backup().snapshot();
            long packBytes = storage.list("data/").stream().mapToLong(io.backupkit.spi.ObjectInfo::size).sum();
            storage.reset();
            DigestTarget target = Repos.restore(repo, snap.id());

            for (int s = 0; s < 2; s++) {
                Map.Entry<String, Long> want = DigestTarget.digestOf(new ByteArrayInputStream(content(s, rounds, RestoreReadCountTest::randomRound)));
                assertEquals(want.getValue(), target.sizes().get("s" + s), "size of stream s" + s);
                assertEquals(want.getKey(), target.digests().get("s" + s), "content of stream s" + s);
            }
            long reads = storage.requests("get", "data/");
            long bytes = storage.bytes("get", "data/");
            assertTrue(packBytes > 6 * 1024 * 1024, "the test data compressed more than expected: " + packBytes + " bytes stored");
            // per stream: its list of blob ids, and one read per 4 MiB of its half of the packs, plus one where a
            // read ends early at a pack's end
            long bound = 2 * (2 + packBytes / 2 / (4 * 1024 * 1024) + 1);
            assertTrue(reads <= bound, "data reads: " + reads + " for 2 streams in " + packBytes + " bytes of packs; at most "
                    + bound + " expected; " + storage.counters());
            assertTrue(bytes <= packBytes, "read " + bytes + " bytes of " + packBytes + " stored: the streams read each other's blobs; "
                    + storage.counters());
        }
    }

    /** A store (or a proxy in front of it) that answers a ranged read with the whole object: not repository damage. */
    @org.junit.jupiter.api.Test
    void aStoreIgnoringRanges_isAStorageError_notDamage() {
        io.backupkit.spi.Storage local = LocalStorage.of(dir.resolve("repo"));
        io.backupkit.spi.Storage ignoring = (io.backupkit.spi.Storage) java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[]{io.backupkit.spi.Storage.class}, (proxy, method, args) -> {
                    try {
                        if (method.getName().equals("get") && args != null && args.length == 3) {
                            return local.get((String) args[0]);
                        }
                        return method.invoke(local, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        try (Repository repo = Repos.encrypted(ignoring).create()) {
            Snapshot snap = BackupManager.builder().repository(repo).source(new Interleaved(STREAMS, 4, RestoreReadCountTest::round))
                    .parallelism(2).build().backup()
                    .snapshot();
            io.backupkit.BackupException e = org.junit.jupiter.api.Assertions.assertThrows(io.backupkit.BackupException.class,
                    () -> Repos.restore(repo, snap.id()));
            assertTrue(e instanceof io.backupkit.StorageException && !(e instanceof io.backupkit.IntegrityException), e.toString());
            assertTrue(e.getMessage().contains("ignores ranged reads"), e.getMessage());
        }
    }

    /** Row-like text, distinct per stream, low entropy like a pgbench dump (compresses well). */
    private static byte[] content(int stream, int rounds, java.util.function.BiFunction<Integer, Integer, String> round) {
        StringBuilder b = new StringBuilder();
        for (int r = 0; r < rounds; r++) {
            b.append(round.apply(stream, r));
        }
        return b.toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** 256 KiB of random letters and digits, drawn from a seed of the stream and round: compresses to ~65 %. */
    private static String randomRound(int stream, int r) {
        java.util.Random random = new java.util.Random(stream * 100_003L + r);
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        StringBuilder b = new StringBuilder(ROUND_BYTES);
        for (int i = 0; i < ROUND_BYTES; i++) {
            b.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return b.toString();
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
        private final int streams;
        private final int rounds;
        private final java.util.function.BiFunction<Integer, Integer, String> round;

        Interleaved(int streams, int rounds, java.util.function.BiFunction<Integer, Integer, String> round) {
            this.streams = streams;
            this.rounds = rounds;
            this.round = round;
        }

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
                for (int s = 0; s < streams; s++) {
                    outs.add(context.newStream("s" + s));
                }
                for (int r = 0; r < rounds; r++) {
                    for (int s = 0; s < streams; s++) {
                        outs.get(s).write(round.apply(s, r).getBytes(StandardCharsets.US_ASCII));
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
