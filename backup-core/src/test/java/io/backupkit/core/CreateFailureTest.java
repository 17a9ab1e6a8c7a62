package io.backupkit.core;

import io.backupkit.ConfigurationException;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.StorageException;
import io.backupkit.testkit.DumpLikeData;
import io.backupkit.testkit.FaultInjectingStorage;
import io.backupkit.testkit.GeneratedSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A create that fails between writing its key slot and its config leaves no stray slot where it can
 * clean up, and where it cannot (the process died) a state that create repairs and open explains.
 */
class CreateFailureTest {
    @TempDir
    Path dir;

    @Test
    void configWriteThatThrows_removesTheKeySlot_andCreateWorksAgain() {
        LocalStorage disk = LocalStorage.of(dir);
        // write 1 is the key slot, write 2 the config
        FaultInjectingStorage failing = new FaultInjectingStorage(disk, 2);
        assertThrows(StorageException.class, () -> Repos.encrypted(failing).create());
        assertTrue(disk.list("keys/").isEmpty(), "the slot of the failed create was removed: " + disk.list("keys/"));
        assertTrue(disk.stat("config").isEmpty());

        try (Repository repo = Repos.encrypted(disk).create()) {
            Repos.backup(repo, new GeneratedSource().stream("s", () -> DumpLikeData.stream(1, 10_000)));
        }
        try (Repository repo = Repos.encrypted(disk).open()) {
            assertEquals(1, repo.keys().list().size());
            assertEquals(1, repo.snapshots().list().size());
        }
    }

    @Test
    void configWriteThatLandsButReportsAnError_keepsTheSlot_andCreateSucceeds() {
        HookedStorage storage = new HookedStorage(LocalStorage.of(dir));
        storage.afterPut = name -> {
            if (name.equals("config")) {
                throw new StorageException("connection reset after the upload completed", true);
            }
        };
        // the config is stored and is ours: deleting the slot now would make the repository unopenable
        try (Repository repo = Repos.encrypted(storage).create()) {
            assertTrue(repo.encrypted());
        }
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).open()) {
            assertEquals(1, repo.keys().list().size());
        }
    }

    @Test
    void processDeathBetweenSlotAndConfig_openExplains_createWorksAgain_andOpenSkipsTheOrphanSlot() {
        // what a create that died after writing its slot leaves: a slot (same password) and no config
        Forge.interruptedCreate(dir, Repos.password(Repos.PASSWORD));
        String orphan = LocalStorage.of(dir).list("keys/").get(0).name();

        ConfigurationException e = assertThrows(ConfigurationException.class, () -> Repos.encrypted(LocalStorage.of(dir)).open());
        assertTrue(e.getMessage().contains("1 key slot") && e.getMessage().contains("interrupted create"), e.getMessage());

        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).create()) {
            Repos.backup(repo, new GeneratedSource().stream("s", () -> DumpLikeData.stream(1, 10_000)));
        }
        // whichever slot is tried first, the orphan unwraps with the password but does not open the config
        for (boolean reversed : new boolean[] {false, true}) {
            HookedStorage storage = new HookedStorage(LocalStorage.of(dir));
            if (reversed) {
                storage.reversedListing();
            }
            try (Repository repo = Repos.encrypted(storage).open()) {
                assertEquals(1, repo.snapshots().list().size());
                assertFalse(repo.keys().list().stream().filter(k -> k.current()).anyMatch(k -> orphan.endsWith(k.id())));
            }
        }
    }

    @Test
    void createOverAnExistingRepositoryWithoutConfig_isRefused() {
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).create()) {
            Repos.backup(repo, new GeneratedSource().stream("s", () -> DumpLikeData.stream(1, 10_000)));
        }
        LocalStorage disk = LocalStorage.of(dir);
        disk.delete("config");
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> Repos.encrypted(disk).create());
        assertTrue(e.getMessage().contains("snapshot"), e.getMessage());
        assertTrue(disk.stat("config").isEmpty());
    }

    @Test
    void unencryptedCreateOverAnOrphanKeySlot_isRefusedClearly() {
        Forge.interruptedCreate(dir, Repos.password(Repos.PASSWORD));
        ConfigurationException e = assertThrows(ConfigurationException.class,
                () -> Repository.builder().storage(LocalStorage.of(dir)).unencrypted().create());
        assertTrue(e.getMessage().contains("key slot"), e.getMessage());
    }
}
