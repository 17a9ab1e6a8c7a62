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
    // 6 sites x 3,700 rows x ~120 bytes = ~2.6 MiB = ~1 % of the stream
    private static final int SITES = 6;
    private static final int ROWS_PER_SITE = 3_700;

    @TempDir
    Path dir;

    @Test
    void secondBackupAfterScatteredEditsAndInserts_storesAtMostFivePercent() throws Exception {
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).create()) {
            BackupResult first = Repos.backup(repo, new GeneratedSource().stream("table", () -> DumpLikeData.stream(7, SIZE)));
            BackupResult second = Repos.backup(repo, new GeneratedSource().stream("table",
                    () -> DumpLikeData.edited(7, SIZE, SITES, ROWS_PER_SITE)));

            double share = (double) second.bytesStored() / first.bytesStored();
            System.out.printf("dedup: first stored %d, second stored %d (%.2f %%), dedup ratio %.1f%n",
                    first.bytesStored(), second.bytesStored(), share * 100, second.dedupRatio());
            assertTrue(share <= 0.05, "second backup stored " + share * 100 + " % of the first");
            assertTrue(second.streams().get(0).newBlobs() > 0, "the edits must be stored");

            DigestTarget restored = Repos.restore(repo, second.snapshotId());
            assertEquals(DigestTarget.digestOf(DumpLikeData.edited(7, SIZE, SITES, ROWS_PER_SITE)).getKey(),
                    restored.digests().get("table"));
        }
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
