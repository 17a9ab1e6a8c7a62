package io.backupkit.core;

import io.backupkit.BackupResult;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.internal.repo.DefaultRepository;
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
 * with about 1 % of its bytes changed at three scattered sites, rewritten in place or inserted
 * (shifting all later offsets). Fixed-size blocks would store almost everything again after the
 * first insert; FastCDC stores only the chunks around each site.
 */
class DedupTest {
    private static final long SIZE = 256L * 1024 * 1024;
    // 3 sites (rows inserted, rows rewritten in place, rows inserted) x 7,300 rows x ~120 bytes = ~2.6 MiB
    // = ~1 % of the stream. Each site costs its own bytes plus about two chunks around it (the chunk
    // that holds the edit is size-biased, and re-synchronization needs the next common cut), so with
    // ~1 MiB chunks the share grows by ~1 % per site: 3 sites measured 3.2-4.0 %, 4 sites 3.5-6.5 %,
    // 6 sites 5-7.5 %. This is the figure to watch when tuning the chunker.
    private static final int SITES = 3;
    private static final int ROWS_PER_SITE = 7_300;
    private static final long[] CHUNKER_SEEDS = {1, 2, 3};

    @TempDir
    Path dir;

    @Test
    void secondBackupAfterScatteredEditsAndInserts_storesAtMostFivePercent() throws Exception {
        double sum = 0;
        for (int r = 0; r < CHUNKER_SEEDS.length; r++) {
            Repository.Builder builder = Repos.encrypted(LocalStorage.of(dir.resolve("repo" + r)));
            ((DefaultRepository.RepositoryBuilder) builder).chunkerSeed(CHUNKER_SEEDS[r]);
            try (Repository repo = builder.create()) {
                BackupResult first = Repos.backup(repo, new GeneratedSource().stream("table", () -> DumpLikeData.stream(7, SIZE)));
                BackupResult second = Repos.backup(repo, new GeneratedSource().stream("table",
                        () -> DumpLikeData.edited(7, SIZE, SITES, ROWS_PER_SITE)));
                double share = (double) second.bytesStored() / first.bytesStored();
                sum += share;
                System.out.printf("dedup: first stored %d, second stored %d (%.2f %%), dedup ratio %.1f%n",
                        first.bytesStored(), second.bytesStored(), share * 100, second.dedupRatio());
                assertTrue(second.streams().get(0).newBlobs() > 0, "the edits must be stored");
                assertTrue(share <= 0.05, "chunker seed " + CHUNKER_SEEDS[r] + ": second backup stored " + share * 100 + " % of the first");
                if (r == 0) {
                    DigestTarget restored = Repos.restore(repo, second.snapshotId());
                    assertEquals(DigestTarget.digestOf(DumpLikeData.edited(7, SIZE, SITES, ROWS_PER_SITE)).getKey(),
                            restored.digests().get("table"));
                }
            }
        }
        double mean = sum / CHUNKER_SEEDS.length;
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
