package io.backupkit.core;

import io.backupkit.BackupManager;
import io.backupkit.ForgetManager;
import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.PruneRefusedException;
import io.backupkit.PruneResult;
import io.backupkit.Repository;
import io.backupkit.RetentionPolicy;
import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.LockManager;
import io.backupkit.testkit.DigestTarget;
import io.backupkit.testkit.GeneratedSource;
import io.backupkit.testkit.InterceptingStorage;
import io.backupkit.testkit.RandomData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Prune refuses what it cannot do safely (clock skew), and needs no conditional writes. */
class PruneSafetyTest {
    private static final long MIB = 1024 * 1024;

    @TempDir
    Path dir;

    private Repository repoWithGarbage(InterceptingStorage storage, Path keyFile) {
        Repository repo = Repository.builder().storage(storage).keyProvider(KeyProviders.keyFile(keyFile)).packSize((int) MIB).create();
        for (int i = 0; i < 3; i++) {
            long seed = i;
            BackupManager.builder().repository(repo).parallelism(2)
                    .source(new GeneratedSource().stream("s", () -> RandomData.stream(seed, 2 * MIB))).build().backup();
        }
        ForgetManager.builder().repository(repo).policy(RetentionPolicy.builder().keepLast(1).build()).build().forget();
        return repo;
    }

    @Test
    void hostClockFarFromTheStorages_isRefused_andNothingIsDeleted() throws Exception {
        Path keyFile = KeyProviders.generateKeyFile(dir.resolve("key"));
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = repoWithGarbage(storage, keyFile)) {
            // the storage's clock runs 40 minutes ahead of this host's
            storage.timeShift(Duration.ofMinutes(40));
            storage.reset();
            PruneRefusedException e = assertThrows(PruneRefusedException.class, () -> PruneTest.prune(repo).build().prune());
            assertTrue(e.getMessage().contains("this host's clock is 40 min behind the storage's") && e.getMessage().contains("NTP"),
                    e.getMessage());
            assertEquals(0, storage.requests("delete", "data/") + storage.requests("put", "index/"), storage.counters().toString());
            assertEquals(0, repo.storage().list("locks/").size(), "the refused prune released its lock");
            // within the bound, it runs
            storage.timeShift(Duration.ofSeconds(30));
            assertTrue(PruneTest.prune(repo).build().prune().packsDeleted() > 0);
        }
    }

    @Test
    void runningBackupOnAHostWithASkewedClock_makesPruneRefuse_namingThatHost() throws Exception {
        Path keyFile = KeyProviders.generateKeyFile(dir.resolve("key"));
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        try (Repository repo = repoWithGarbage(storage, keyFile)) {
            DefaultRepository d = (DefaultRepository) repo;
            // a backup on a host whose clock is two hours ahead: its lock records the skew it measured
            LockManager skewed = new LockManager(repo.storage(), d.sealer(), Clock.offset(Clock.systemUTC(), Duration.ofHours(2)));
            try (LockManager.Lock backup = skewed.acquire(false, "backup")) {
                storage.reset();
                PruneRefusedException e = assertThrows(PruneRefusedException.class, () -> PruneTest.prune(repo).build().prune());
                assertTrue(e.getMessage().contains("the clock of backup on ") && e.getMessage().contains("120 min ahead of"),
                        e.getMessage());
                assertTrue(e.holder().startsWith("backup on "), e.holder());
                assertEquals(0, storage.requests("delete", "data/"));
            }
            assertTrue(PruneTest.prune(repo).build().prune().packsDeleted() > 0);
        }
    }

    @Test
    void storeWithoutConditionalWrites_backupsAndPrunesStayCorrect() throws Exception {
        Path keyFile = KeyProviders.generateKeyFile(dir.resolve("key"));
        InterceptingStorage storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo"))).conditionalWrites(false);
        try (Repository repo = repoWithGarbage(storage, keyFile)) {
            String id = BackupManager.builder().repository(repo).parallelism(2)
                    .source(new GeneratedSource().stream("s", () -> RandomData.stream(2, 2 * MIB))).build().backup().snapshotId();
            PruneResult r = PruneTest.prune(repo).build().prune();
            assertTrue(r.packsDeleted() > 0, r.toString());
            assertEquals(DigestTarget.digestOf(RandomData.stream(2, 2 * MIB)).getKey(), Repos.restore(repo, id).digests().get("s"));
            assertTrue(repo.check().ok(), repo.check().errors().toString());
            PruneResult second = PruneTest.prune(repo).build().prune();
            assertEquals(0, second.packsDeleted(), second + " " + r);
        }
    }
}
