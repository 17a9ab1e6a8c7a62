package io.backupkit.core;

import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.testkit.DumpLikeData;
import io.backupkit.testkit.GeneratedSource;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Wrote the repositories in {@code src/test/resources/format-v1/} with backupkit as of commit
 * 2532813 (config version 1: blob id = HMAC-SHA256 of the plaintext, each stream's SHA-256 over its
 * whole plaintext). Kept so the fixture can be explained and, if ever needed, rebuilt by checking out
 * that commit: {@code java -cp … io.backupkit.core.FormatV1Fixture DIR}. {@link FormatV1CompatibilityTest}
 * reads and writes those repositories with today's code.
 */
public final class FormatV1Fixture {
    private FormatV1Fixture() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Files.createDirectories(dir);
        byte[] key = new byte[32];
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) (i * 7 + 1);
        }
        Files.write(dir.resolve("key.bin"), key);
        for (boolean encrypted : new boolean[] {true, false}) {
            DefaultRepository.RepositoryBuilder b = (DefaultRepository.RepositoryBuilder) Repository.builder()
                    .storage(LocalStorage.of(dir.resolve(encrypted ? "encrypted" : "unencrypted")));
            b.chunkerSeed(42);
            b.chunkSizes(4096, 16384, 65536).packSize(1024 * 1024).compression("zstd:3");
            if (encrypted) {
                b.keyFile(dir.resolve("key.bin"));
            } else {
                b.unencrypted();
            }
            try (Repository repo = b.create()) {
                byte[] small = "a small stream\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                BackupResult first = backup(repo, new GeneratedSource()
                        .stream("table", () -> DumpLikeData.stream(11, 300_000))
                        .stream("small", () -> new ByteArrayInputStream(small))
                        .stream("empty", () -> new ByteArrayInputStream(new byte[0])));
                System.out.println((encrypted ? "encrypted" : "unencrypted") + " first: " + first.snapshotId());
                if (encrypted) {
                    BackupResult second = backup(repo, new GeneratedSource()
                            .stream("table", () -> DumpLikeData.edited(11, 300_000, 2, 100)));
                    System.out.println("encrypted second: " + second.snapshotId());
                }
            }
        }
    }

    private static BackupResult backup(Repository repo, GeneratedSource source) {
        return BackupManager.builder().repository(repo).source(source).parallelism(2).build().backup();
    }
}
