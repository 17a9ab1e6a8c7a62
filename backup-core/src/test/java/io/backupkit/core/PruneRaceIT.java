package io.backupkit.core;

import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.testkit.PruneRaceCampaign;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11 acceptance 3 on local storage: backups and prunes running at the same time for 50 rounds
 * ({@code -Dbackupkit.raceRounds=N}); no blob a listed snapshot references is ever missing, every listed
 * snapshot restores byte-exact. The S3 run is {@code S3PruneRaceIT} in backup-s3.
 */
class PruneRaceIT {
    @TempDir
    Path dir;

    @Test
    void backupsAndPrunesRacing_neverLoseABlob() throws Exception {
        Path key = KeyProviders.generateKeyFile(dir.resolve("key"));
        int rounds = Integer.getInteger("backupkit.raceRounds", 50);
        PruneRaceCampaign.Result r = new PruneRaceCampaign(() -> LocalStorage.of(dir.resolve("repo")), key, rounds,
                Long.getLong("backupkit.seed", 20261130L)).run();
        PruneRaceCampaign.describe(r).forEach(System.out::println);
        assertEquals(rounds, r.rounds());
        assertEquals(0, r.backupsFailed() + r.prunesFailed(), "nothing fails on a healthy disk: " + r.failures() + " " + r);
        assertTrue(r.packsDeleted() > 0, "prunes deleted data while backups ran: " + r);
    }
}
