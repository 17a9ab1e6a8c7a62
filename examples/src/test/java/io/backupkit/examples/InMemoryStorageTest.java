package io.backupkit.examples;

import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.Storages;
import io.backupkit.VerificationLevel;
import io.backupkit.Verifier;
import io.backupkit.testkit.DigestTarget;
import io.backupkit.testkit.DumpLikeData;
import io.backupkit.testkit.GeneratedSource;
import io.backupkit.spi.Payload;
import io.backupkit.spi.Storage;
import io.backupkit.testkit.StorageContractTest;
import org.junit.jupiter.api.Test;

import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The example plug-in passes the same contract as the built-in storages, and is found by its scheme. */
class InMemoryStorageTest extends StorageContractTest {
    @Override
    protected Storage newStorage() {
        return new InMemoryStorage("contract-" + UUID.randomUUID());
    }

    @Test
    void memLocations_areOpenedThroughServiceLoader_andShareObjectsByName() {
        Storage a = Storages.open("mem://shared-" + getClass().getSimpleName());
        Storage b = Storages.open("mem://shared-" + getClass().getSimpleName());
        assertTrue(a instanceof InMemoryStorage, a.getClass().getName());
        assertSame(a, b);
        a.putIfAbsent("config", Payload.of(new byte[] {1, 2, 3}));
        assertEquals(3, b.stat("config").orElseThrow().size());
    }

    @Test
    void aWholeRepositoryLivesInThePlugIn_backupVerifyRestore() throws Exception {
        String location = "mem://repository-" + UUID.randomUUID();
        byte[] expected;
        try (var in = DumpLikeData.stream(7, 3_000_000)) {
            expected = in.readAllBytes();
        }
        try (Repository repo = Repository.builder().location(location).password("plug-in test".toCharArray()).create()) {
            BackupResult result = BackupManager.builder().repository(repo)
                    .source(new GeneratedSource().stream("dump", () -> new java.io.ByteArrayInputStream(expected)))
                    .build().backup();
            assertEquals(expected.length, result.bytesRead());
            assertTrue(((InMemoryStorage) repo.storage()).size() > 0);
            assertTrue(Verifier.builder().repository(repo).level(VerificationLevel.STANDARD).build().verify().passed());
        }
        try (Repository reopened = Repository.builder().location(location).password("plug-in test".toCharArray()).open()) {
            DigestTarget target = new DigestTarget();
            RestoreManager.builder().repository(reopened).target(target).build().restore();
            assertEquals(DigestTarget.digestOf(new java.io.ByteArrayInputStream(expected)).getKey(), target.digests().get("dump"));
        }
    }
}
