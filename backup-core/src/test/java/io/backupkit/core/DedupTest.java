package io.backupkit.core;

import io.backupkit.BackupResult;
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
 * Content-defined chunking keeps a second backup small: a 256 MiB dump-like stream, then the same
 * with about 1 % of its bytes changed at scattered sites, half rewritten in place and half inserted
 * (shifting all later offsets). Fixed-size blocks would store almost everything again after the
 * first insert; FastCDC stores only the chunks around each site.
 */
class DedupTest {
    private static final long SIZE = 256L * 1024 * 1024;
    // 4 sites (2 rewritten in place, 2 with rows inserted) x 5,500 rows x ~125 bytes = ~2.6 MiB = ~1 % of the stream.
    // Each site costs its own bytes plus about two chunks around it (the chunk that holds the edit
    // is size-biased, and re-synchronization needs the next common cut), so with ~1 MiB chunks
    // the share grows by ~1 % per site: this is the figure to watch when tuning the chunker.
    private static final int SITES = 4;
    private static final int ROWS_PER_SITE = 5_500;
    // every repository draws its own chunker seed; average over a few to measure the chunker, not one seed
    private static final int REPOSITORIES = 3;

    @TempDir
    Path dir;

    @Test
    void secondBackupAfterScatteredEditsAndInserts_storesAtMostFivePercent() throws Exception {
        double sum = 0;
        for (int r = 0; r < REPOSITORIES; r++) {
            try (Repository repo = Repos.encrypted(LocalStorage.of(dir.resolve("repo" + r))).create()) {
                BackupResult first = Repos.backup(repo, new GeneratedSource().stream("table", () -> DumpLikeData.stream(7, SIZE)));
                BackupResult second = Repos.backup(repo, new GeneratedSource().stream("table",
                        () -> DumpLikeData.edited(7, SIZE, SITES, ROWS_PER_SITE)));
                double share = (double) second.bytesStored() / first.bytesStored();
                sum += share;
                System.out.printf("dedup: first stored %d, second stored %d (%.2f %%), dedup ratio %.1f%n",
                        first.bytesStored(), second.bytesStored(), share * 100, second.dedupRatio());
                assertTrue(second.streams().get(0).newBlobs() > 0, "the edits must be stored");
                if (r == 0) {
                    DigestTarget restored = Repos.restore(repo, second.snapshotId());
                    assertEquals(DigestTarget.digestOf(DumpLikeData.edited(7, SIZE, SITES, ROWS_PER_SITE)).getKey(),
                            restored.digests().get("table"));
                }
            }
        }
        double mean = sum / REPOSITORIES;
        assertTrue(mean <= 0.05, "second backups stored " + mean * 100 + " % of the first on average");
    }

    @Test
    void identicalSecondBackup_storesOnlyIndexAndManifest() {
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).create()) {
            Repos.backup(repo, new GeneratedSource().stream("t", () -> DumpLikeData.stream(3, 20L * 1024 * 1024)));
            BackupResult again = Repos.backup(repo, new GeneratedSource().stream("t", () -> DumpLikeData.stream(3, 20L * 1024 * 1024)));
            assertEquals(0, again.streams().get(0).newBlobs());
            assertTrue(again.bytesStored() < 10_000, "stored " + again.bytesStored());
        }
    }
}
