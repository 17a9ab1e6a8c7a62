package io.backupkit.core;

import io.backupkit.BackupResult;
import io.backupkit.Codecs;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.spi.CompressionCodec;
import io.backupkit.testkit.DigestTarget;
import io.backupkit.testkit.DumpLikeData;
import io.backupkit.testkit.GeneratedSource;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayInputStream;
import java.io.SequenceInputStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Streams of every size class round-trip byte for byte with every codec, encrypted and not. */
class RoundTripTest {
    @TempDir
    Path dir;

    static Stream<Arguments> codecsAndModes() {
        return Codecs.all().stream().flatMap(c -> Stream.of(Arguments.of(c.name(), true), Arguments.of(c.name(), false)));
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @ParameterizedTest(name = "{0} encrypted={1}")
    @MethodSource("codecsAndModes")
    void streams_roundTripByteForByte(String codecName, boolean encrypted) throws Exception {
        CompressionCodec codec = Codecs.byName(codecName);
        Repository.Builder b = encrypted ? Repos.encrypted(LocalStorage.of(dir)) : Repository.builder().storage(LocalStorage.of(dir)).unencrypted();
        try (Repository repo = b.compression(codec).packSize(1024 * 1024).create()) {
            long seed = codecName.hashCode();
            // xz and bzip2 run at a few MB/s: a smaller mixed stream still spans several packs
            int textMiB = codecName.equals("xz") || codecName.equals("bzip2") ? 4 : 18;
            GeneratedSource source = new GeneratedSource()
                    .stream("empty", () -> new ByteArrayInputStream(new byte[0]))
                    .stream("one-byte", () -> new ByteArrayInputStream(new byte[]{42}))
                    .stream("small-random", () -> new ByteArrayInputStream(random(65_537, seed)))
                    .stream("text-3m", () -> DumpLikeData.stream(seed, 3 * 1024 * 1024 + 17))
                    // incompressible and compressible data in one stream: exercises stored-uncompressed blobs
                    .stream("mixed", () -> new SequenceInputStream(new ByteArrayInputStream(random(6 * 1024 * 1024, seed + 1)),
                            DumpLikeData.stream(seed + 2, textMiB * 1024 * 1024)));
            BackupResult result = Repos.backup(repo, source);
            assertEquals(5, result.snapshot().streams().size());
            assertEquals(0 + 1 + 65_537 + 3 * 1024 * 1024 + 17 + (6 + textMiB) * 1024 * 1024, result.bytesRead());

            DigestTarget target = Repos.restore(repo, result.snapshotId());
            assertEquals(DigestTarget.digestOf(new ByteArrayInputStream(new byte[0])).getKey(), target.digests().get("empty"));
            assertEquals(DigestTarget.digestOf(new ByteArrayInputStream(new byte[]{42})).getKey(), target.digests().get("one-byte"));
            assertEquals(DigestTarget.digestOf(new ByteArrayInputStream(random(65_537, seed))).getKey(), target.digests().get("small-random"));
            Map.Entry<String, Long> text = DigestTarget.digestOf(DumpLikeData.stream(seed, 3 * 1024 * 1024 + 17));
            assertEquals(text.getKey(), target.digests().get("text-3m"));
            assertEquals(DigestTarget.digestOf(new SequenceInputStream(new ByteArrayInputStream(random(6 * 1024 * 1024, seed + 1)),
                    DumpLikeData.stream(seed + 2, textMiB * 1024 * 1024))).getKey(), target.digests().get("mixed"));
            if (!codecName.equals("none")) {
                assertTrue(result.bytesStored() < result.bytesRead(), "compressible data must shrink with " + codecName);
            }
            assertTrue(repo.check().ok(), () -> repo.check().errors().toString());
        }
        // reopening with the same secret reads the same snapshot
        Repository.Builder again = encrypted ? Repos.encrypted(LocalStorage.of(dir)) : Repository.builder().storage(LocalStorage.of(dir));
        try (Repository repo = again.open()) {
            assertEquals(1, repo.snapshots().list().size());
            assertEquals(encrypted, repo.encrypted());
        }
    }
}
