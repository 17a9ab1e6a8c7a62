package io.backupkit.s3;

import io.backupkit.KeyProviders;
import io.backupkit.testkit.PruneRaceCampaign;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11 acceptance 3 on S3: backups and prunes racing for 50 rounds ({@code -Dbackupkit.raceRounds=N})
 * on S3Proxy behind a network path that fails 5 % of requests (503s, resets before and after the store
 * did the work). No blob a listed snapshot references is ever missing; every listed snapshot restores
 * byte-exact at the end.
 */
class S3PruneRaceIT {
    @RegisterExtension
    static final S3ProxyFixture S3 = new S3ProxyFixture();
    private static final List<S3Storage> STORAGES = new CopyOnWriteArrayList<>();
    static FaultInjectingProxy faulty;

    @TempDir
    Path dir;

    @BeforeAll
    static void startProxy() throws IOException {
        S3.start();
        faulty = new FaultInjectingProxy(S3.port(), 0.05, 20261130L);
    }

    @AfterAll
    static void stop() throws IOException {
        STORAGES.forEach(S3Storage::close);
        faulty.close();
    }

    @Test
    void backupsAndPrunesRacingOnS3ThroughFaults_neverLoseABlob() throws Exception {
        String bucket = S3.newBucket();
        Path key = KeyProviders.generateKeyFile(dir.resolve("key"));
        int rounds = Integer.getInteger("backupkit.raceRounds", 50);
        int faultsBefore = faulty.faults();
        PruneRaceCampaign.Result r = new PruneRaceCampaign(() -> {
            S3Storage s = S3.storage(bucket, faulty.endpoint()).prefix("race").partSize(S3Storage.MIN_PART_SIZE).maxAttempts(10).build();
            STORAGES.add(s);
            return s;
        }, key, rounds, Long.getLong("backupkit.seed", 20261130L)).run();
        PruneRaceCampaign.describe(r).forEach(System.out::println);
        System.out.printf("through %d injected faults in %d requests%n", faulty.faults() - faultsBefore, faulty.requests());
        assertEquals(rounds, r.rounds());
        assertTrue(faulty.faults() - faultsBefore > 20, "faults were injected");
        assertTrue(r.packsDeleted() > 0, "prunes deleted data while backups ran: " + r);
    }
}
