package io.backupkit.core;

import io.backupkit.IntegrityException;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.internal.crypto.Sealer;
import io.backupkit.internal.repo.Formats;
import io.backupkit.internal.repo.RepoConfig;
import io.backupkit.testkit.DumpLikeData;
import io.backupkit.testkit.GeneratedSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whoever can write the storage must not be able to turn encryption off: a config that claims the
 * repository is unencrypted is refused whenever a key is given or key slots exist, and the mode the
 * header shows must be the one the authenticated config records.
 */
class EncryptionDowngradeTest {
    @TempDir
    Path dir;

    private static RepoConfig plainConfig(String id) {
        return new RepoConfig(1, id, "none", new RepoConfig.Chunker("fastcdc", 256 * 1024, 1024 * 1024, 4 * 1024 * 1024, 1, 42),
                new RepoConfig.Compression("zstd", 3), 16 * 1024 * 1024, Instant.now());
    }

    private String createEncryptedWithABackup() {
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).create()) {
            Repos.backup(repo, new GeneratedSource().stream("s", () -> DumpLikeData.stream(3, 100_000)));
            return repo.id();
        }
    }

    /** What an attacker writes: the checksum-only seal needs no secret. */
    private void replaceConfigWithUnencryptedOne(String id) {
        Forge.write(dir, Formats.CONFIG, Forge.config(0, Sealer.checksumOnly(), Forge.json(plainConfig(id))));
    }

    private long filesUnder(String prefix) throws IOException {
        if (!Files.isDirectory(dir.resolve(prefix))) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(dir.resolve(prefix))) {
            return s.filter(Files::isRegularFile).count();
        }
    }

    @Test
    void unencryptedConfigOverAnEncryptedRepository_isRefusedWhenAPasswordIsGiven() throws IOException {
        String id = createEncryptedWithABackup();
        replaceConfigWithUnencryptedOne(id);
        long snapshots = filesUnder("snapshots");

        IntegrityException e = assertThrows(IntegrityException.class, () -> Repos.encrypted(LocalStorage.of(dir)).open().close());
        assertEquals("config", e.objectName());
        assertTrue(e.getMessage().contains("unencrypted") && e.getMessage().contains("password"), e.getMessage());
        assertEquals(snapshots, filesUnder("snapshots"), "nothing was written in clear");
    }

    @Test
    void attackerWhoDeletesTheKeySlotsAndWritesAnUnencryptedConfig_isRefusedWhenAPasswordIsGiven() throws IOException {
        String id = createEncryptedWithABackup();
        try (Stream<Path> s = Files.walk(dir.resolve("keys"))) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                Files.delete(p);
            }
        }
        replaceConfigWithUnencryptedOne(id);

        IntegrityException e = assertThrows(IntegrityException.class, () -> Repos.encrypted(LocalStorage.of(dir)).open().close());
        assertEquals("config", e.objectName());
        assertTrue(e.getMessage().contains("without a password"), "says what to do if it really is unencrypted: " + e.getMessage());
    }

    @Test
    void unencryptedConfigBesideKeySlots_isRefusedEvenWithoutAKey() {
        String id = createEncryptedWithABackup();
        replaceConfigWithUnencryptedOne(id);

        IntegrityException e = assertThrows(IntegrityException.class, () -> Repository.builder().storage(LocalStorage.of(dir)).open().close());
        assertEquals("config", e.objectName());
        assertTrue(e.getMessage().contains("1 key slot"), e.getMessage());
    }

    @Test
    void encryptedConfigWhoseAuthenticatedModeSaysNone_isRefused() {
        Forge.RecordingKeyProvider key = new Forge.RecordingKeyProvider();
        String id;
        try (Repository repo = Repository.builder().storage(LocalStorage.of(dir)).keyProvider(key).create()) {
            id = repo.id();
        }
        // a key holder's config that says "none" inside while the header says encrypted
        Forge.write(dir, Formats.CONFIG, Forge.config(1, key.sealer(), Forge.json(plainConfig(id))));

        IntegrityException e = assertThrows(IntegrityException.class,
                () -> Repository.builder().storage(LocalStorage.of(dir)).keyProvider(key).open().close());
        assertEquals("config", e.objectName());
        assertTrue(e.getMessage().contains("none"), e.getMessage());
    }

    @Test
    void modeByteFlippedOnAnEncryptedConfig_isRefused() throws IOException {
        createEncryptedWithABackup();
        byte[] config = Files.readAllBytes(dir.resolve("config"));
        config[4] = 0;
        Files.write(dir.resolve("config"), config);

        IntegrityException withKey = assertThrows(IntegrityException.class, () -> Repos.encrypted(LocalStorage.of(dir)).open().close());
        assertEquals("config", withKey.objectName());
        IntegrityException withoutKey = assertThrows(IntegrityException.class,
                () -> Repository.builder().storage(LocalStorage.of(dir)).open().close());
        assertEquals("config", withoutKey.objectName());
    }

    @Test
    void realUnencryptedRepository_opensWithoutKey_andRefusesAGivenPassword() {
        try (Repository repo = Repository.builder().storage(LocalStorage.of(dir)).unencrypted().create()) {
            Repos.backup(repo, new GeneratedSource().stream("s", () -> DumpLikeData.stream(3, 10_000)));
        }
        try (Repository repo = Repository.builder().storage(LocalStorage.of(dir)).open()) {
            assertFalse(repo.encrypted());
            assertEquals(1, repo.snapshots().list().size());
        }
        IntegrityException e = assertThrows(IntegrityException.class, () -> Repos.encrypted(LocalStorage.of(dir)).open().close());
        assertTrue(e.getMessage().contains("without a password"), e.getMessage());
    }

    @Test
    void configHeaderIsChecked_withTheVersionsNamed() throws IOException {
        createEncryptedWithABackup();
        byte[] config = Files.readAllBytes(dir.resolve("config"));
        config[3] = '9';
        Files.write(dir.resolve("config"), config);
        IntegrityException e = assertThrows(IntegrityException.class, () -> Repos.encrypted(LocalStorage.of(dir)).open().close());
        assertEquals("config", e.objectName());
        assertTrue(e.getMessage().contains("BKC9") && e.getMessage().contains("BKC1"), e.getMessage());
    }
}
