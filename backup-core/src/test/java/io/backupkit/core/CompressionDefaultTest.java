package io.backupkit.core;

import io.backupkit.BackupResult;
import io.backupkit.Codecs;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.testkit.DigestTarget;
import io.backupkit.testkit.DumpLikeData;
import io.backupkit.testkit.GeneratedSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * New repositories compress with zstd level 1 (measured: docs/performance.md, "mixed"); a repository made
 * before, with level 3 in its config, keeps level 3, still restores, and deduplicates data backed up at
 * either level: blob ids come from the plaintext, never from the compressed bytes.
 */
class CompressionDefaultTest {
    @TempDir
    Path dir;

    private static final long SEED = 12;
    private static final int BYTES = 6 * 1024 * 1024;

    private static GeneratedSource source() {
        return new GeneratedSource().stream("dump", () -> DumpLikeData.stream(SEED, BYTES));
    }

    @Test
    void aNewRepository_recordsZstdLevel1() throws Exception {
        Path at = dir.resolve("new");
        try (Repository repo = Repos.encrypted(LocalStorage.of(at)).create()) {
            assertEquals("zstd", repo.compression().name());
            assertEquals(1, repo.compression().level());
        }
        try (Repository repo = Repos.encrypted(LocalStorage.of(at)).open()) {
            assertEquals("zstd", repo.compression().name());
            assertEquals(1, repo.compression().level(), "reopened without a codec: the level the config records");
        }
    }

    @Test
    void aLevel3Repository_keepsItsLevel_restores_andDeduplicatesAcrossLevels() throws Exception {
        Path at = dir.resolve("old");
        BackupResult first;
        try (Repository repo = Repos.encrypted(LocalStorage.of(at)).compression("zstd:3").create()) {
            first = Repos.backup(repo, source());
        }
        try (Repository repo = Repos.encrypted(LocalStorage.of(at)).open()) {
            assertEquals(3, repo.compression().level(), "an existing repository is not moved to the new default");
            DigestTarget restored = Repos.restore(repo, first.snapshotId());
            assertEquals(DigestTarget.digestOf(DumpLikeData.stream(SEED, BYTES)).getKey(), restored.digests().get("dump"));
        }
        // the same data again, compressed at level 1 for this backup only: every blob is already stored
        try (Repository repo = Repos.encrypted(LocalStorage.of(at)).compression(Codecs.defaultCodec()).open()) {
            BackupResult second = Repos.backup(repo, source());
            assertTrue(second.bytesStored() < first.bytesStored() / 10,
                    "level 1 blobs deduplicate against level 3 blobs: stored " + second.bytesStored() + " after " + first.bytesStored());
            assertTrue(repo.check().ok(), () -> repo.check().errors().toString());
        }
    }
}
