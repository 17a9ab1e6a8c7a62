package io.backupkit.core;

import io.backupkit.ConfigurationException;
import io.backupkit.KeyException;
import io.backupkit.KeyProviders;
import io.backupkit.KeySlotInfo;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.testkit.DumpLikeData;
import io.backupkit.testkit.GeneratedSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Passwords and key files are slots around one master key: added and removed without rewriting data. */
class KeySlotsTest {
    @TempDir
    Path dir;

    @Test
    void changingPassword_isAddThenRemove_andDataIsUntouched() throws Exception {
        Path repoDir = dir.resolve("repo");
        try (Repository repo = Repos.encrypted(LocalStorage.of(repoDir)).create()) {
            Repos.backup(repo, new GeneratedSource().stream("s", () -> DumpLikeData.stream(5, 2 * 1024 * 1024)));
        }
        List<Path> packsBefore;
        try (var s = Files.walk(repoDir.resolve("data"))) {
            packsBefore = s.filter(Files::isRegularFile).sorted().toList();
        }
        char[] newPw = "new password".toCharArray();
        try (Repository repo = Repos.encrypted(LocalStorage.of(repoDir)).open()) {
            KeySlotInfo added = repo.keys().add(Repos.password(newPw));
            List<KeySlotInfo> slots = repo.keys().list();
            assertEquals(2, slots.size());
            String old = slots.stream().filter(KeySlotInfo::current).findFirst().orElseThrow().id();
            repo.keys().remove(old);
            assertEquals(List.of(added.id()), repo.keys().list().stream().map(KeySlotInfo::id).toList());
        }
        assertThrows(KeyException.class, () -> Repos.encrypted(LocalStorage.of(repoDir)).open());
        try (Repository repo = Repository.builder().storage(LocalStorage.of(repoDir)).keyProvider(Repos.password(newPw)).open()) {
            assertEquals(1, repo.snapshots().list().size());
            assertEquals(2 * 1024 * 1024, Repos.restore(repo, "latest").sizes().get("s"));
        }
        try (var s = Files.walk(repoDir.resolve("data"))) {
            assertEquals(packsBefore, s.filter(Files::isRegularFile).sorted().toList(), "no pack was rewritten");
        }
    }

    @Test
    void lastSlot_cannotBeRemoved() {
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).create()) {
            String only = repo.keys().list().get(0).id();
            ConfigurationException e = assertThrows(ConfigurationException.class, () -> repo.keys().remove(only));
            assertTrue(e.getMessage().contains("last one"), e.getMessage());
            assertEquals(1, repo.keys().list().size());
        }
    }

    @Test
    void keyFileSlot_opensTheRepository_andAnotherFileDoesNot() {
        Path keyFile = KeyProviders.generateKeyFile(dir.resolve("k1.key"));
        Path otherFile = KeyProviders.generateKeyFile(dir.resolve("k2.key"));
        Path repoDir = dir.resolve("repo");
        try (Repository repo = Repository.builder().storage(LocalStorage.of(repoDir)).keyFile(keyFile).create()) {
            repo.keys().add(Repos.password(Repos.PASSWORD));
        }
        try (Repository repo = Repository.builder().storage(LocalStorage.of(repoDir)).keyFile(keyFile).open()) {
            assertEquals(2, repo.keys().list().size());
        }
        try (Repository repo = Repos.encrypted(LocalStorage.of(repoDir)).open()) {
            assertTrue(repo.encrypted());
        }
        KeyException e = assertThrows(KeyException.class, () -> Repository.builder().storage(LocalStorage.of(repoDir)).keyFile(otherFile).open());
        assertTrue(e.getMessage().contains("k2.key"));
    }

    @Test
    void openingWithoutSecret_orMissingRepository_orCreatingTwice_areClearErrors() {
        Path repoDir = dir.resolve("repo");
        ConfigurationException missing = assertThrows(ConfigurationException.class, () -> Repos.encrypted(LocalStorage.of(repoDir)).open());
        assertTrue(missing.getMessage().contains("no repository at"), missing.getMessage());
        Repos.encrypted(LocalStorage.of(repoDir)).create().close();
        ConfigurationException noSecret = assertThrows(ConfigurationException.class, () -> Repository.builder().storage(LocalStorage.of(repoDir)).open());
        assertTrue(noSecret.getMessage().contains("encrypted"), noSecret.getMessage());
        ConfigurationException twice = assertThrows(ConfigurationException.class, () -> Repos.encrypted(LocalStorage.of(repoDir)).create());
        assertTrue(twice.getMessage().contains("already exists"), twice.getMessage());
    }
}
