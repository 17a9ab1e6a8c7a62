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

import io.backupkit.internal.crypto.Aead;
import io.backupkit.spi.KeyProvider;
import io.backupkit.spi.KeySlot;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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

    @Test
    void afterClose_everyOperationFails_andNoSlotIsWritten() {
        Repository repo = Repos.encrypted(LocalStorage.of(dir)).create();
        repo.close();
        IllegalStateException add = assertThrows(IllegalStateException.class, () -> repo.keys().add(Repos.password("other".toCharArray())));
        assertTrue(add.getMessage().contains("closed"), add.getMessage());
        assertThrows(IllegalStateException.class, () -> repo.keys().list());
        assertThrows(IllegalStateException.class, () -> repo.keys().remove("ab"));
        assertThrows(IllegalStateException.class, () -> repo.snapshots().list());
        assertThrows(IllegalStateException.class, repo::check);
        assertEquals(1, LocalStorage.of(dir).list("keys/").size(), "no slot wrapping a wiped key was written");
    }

    /** A provider whose wrap cannot be undone (a misconfigured KMS alias, a bug): its slot would open nothing. */
    private static final class BrokenProvider implements KeyProvider {
        @Override
        public String type() {
            return "broken";
        }

        @Override
        public String describe() {
            return "broken test provider";
        }

        @Override
        public KeySlot wrap(byte[] masterKey) {
            return new KeySlot("broken", Map.of(), Aead.randomBytes(60));
        }

        @Override
        public Optional<byte[]> unwrap(KeySlot slot) {
            return Optional.empty();
        }
    }

    @Test
    void addedSlot_isVerifiedByUnwrappingIt_andABrokenOneIsNotKept() {
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).create()) {
            KeyException e = assertThrows(KeyException.class, () -> repo.keys().add(new BrokenProvider()));
            assertTrue(e.getMessage().contains("broken test provider"), e.getMessage());
            assertEquals(1, repo.keys().list().size(), "the unusable slot was removed again");
        }
    }

    @Test
    void twoConcurrentRemovalsOfTheLastTwoSlots_leaveOneThatOpens() throws Exception {
        char[] second = "second password".toCharArray();
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).create()) {
            repo.keys().add(Repos.password(second));
        }
        List<String> ids = new ArrayList<>();
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).open()) {
            repo.keys().list().forEach(k -> ids.add(k.id()));
        }
        // both removals announce before either counts (the race of count-then-delete); one that still goes on
        // to delete waits there for the other, which may instead have refused (then it goes on alone)
        CyclicBarrier bothAnnounced = new CyclicBarrier(2);
        CyclicBarrier bothAtDelete = new CyclicBarrier(2);
        HookedStorage storage = new HookedStorage(LocalStorage.of(dir));
        storage.afterPut = name -> {
            if (name.startsWith("keys-removal/")) {
                try {
                    bothAnnounced.await(30, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        };
        storage.beforeDelete = name -> {
            if (name.startsWith("keys/")) {
                try {
                    bothAtDelete.await(5, TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException | java.util.concurrent.BrokenBarrierException alone) {
                    // the other removal refused: nothing to race with
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        try (Repository a = Repos.encrypted(storage).open();
             Repository b = Repository.builder().storage(storage).keyProvider(Repos.password(second)).open()) {
            CompletableFuture<Void> ra = CompletableFuture.runAsync(() -> a.keys().remove(ids.get(0)));
            CompletableFuture<Void> rb = CompletableFuture.runAsync(() -> b.keys().remove(ids.get(1)));
            int failed = 0;
            for (CompletableFuture<Void> f : List.of(ra, rb)) {
                try {
                    f.get(60, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    assertTrue(e.getCause() instanceof ConfigurationException, e.getCause().toString());
                    failed++;
                }
            }
            assertTrue(failed >= 1, "at most one of two racing removals may succeed");
        }
        List<Path> left;
        try (var s = Files.walk(dir.resolve("keys"))) {
            left = s.filter(Files::isRegularFile).toList();
        }
        assertFalse(left.isEmpty(), "a key slot is left");
        boolean opens = false;
        for (char[] pw : new char[][] {Repos.PASSWORD, second}) {
            try (Repository repo = Repository.builder().storage(LocalStorage.of(dir)).keyProvider(Repos.password(pw)).open()) {
                opens = true;
            } catch (KeyException wrong) {
                // the other password's slot is the one left
            }
        }
        assertTrue(opens);
    }

    /**
     * A removal on another host that died after announcing leaves its announcement: while it is young the
     * slot it names does not count (that remover may still delete it); once it is older than the stale
     * age by the storage's own clock, it is removed and the slot counts again.
     */
    @Test
    void announcementLeftByARemoverOnAnotherHost_blocksUntilStale_thenIsRemoved() throws Exception {
        char[] second = "second password".toCharArray();
        String a;
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).create()) {
            repo.keys().add(Repos.password(second));
            a = repo.keys().list().stream().filter(KeySlotInfo::current).findFirst().orElseThrow().id();
        }
        Path left = dir.resolve("keys-removal").resolve(a + ".00112233aabbccdd");
        Files.createDirectories(left.getParent());
        Files.writeString(left, "{\"version\":1,\"slot\":\"keys/" + a + "\",\"host\":\"another-host\",\"pid\":4242}");
        try (Repository repo = Repository.builder().storage(LocalStorage.of(dir)).keyProvider(Repos.password(second)).open()) {
            String b = repo.keys().list().stream().filter(KeySlotInfo::current).findFirst().orElseThrow().id();
            ConfigurationException young = assertThrows(ConfigurationException.class, () -> repo.keys().remove(b));
            assertTrue(young.getMessage().contains("another-host pid 4242") && young.getMessage().contains("nothing was removed"),
                    young.getMessage());
            Files.setLastModifiedTime(left, java.nio.file.attribute.FileTime.from(java.time.Instant.now().minusSeconds(3 * 60)));
            repo.keys().remove(b);
            assertEquals(List.of(a), repo.keys().list().stream().map(KeySlotInfo::id).toList());
        }
        assertFalse(Files.exists(left), "the stale announcement was removed");
        try (var s = Files.list(dir.resolve("keys-removal"))) {
            assertEquals(0, s.count(), "no announcement is left behind by a removal that finished");
        }
    }

    /**
     * A remover running on this host is never taken for a dead one because the OS reports its start time
     * with some rounding: its announcement keeps counting (locks allow the same rounding).
     */
    @Test
    void announcementOfARunningRemoverOnThisHost_withARoundedStartTime_stillBlocks() throws Exception {
        char[] second = "second password".toCharArray();
        String a;
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).create()) {
            repo.keys().add(Repos.password(second));
            a = repo.keys().list().stream().filter(KeySlotInfo::current).findFirst().orElseThrow().id();
        }
        ProcessHandle self = ProcessHandle.current();
        java.time.Instant rounded = self.info().startInstant().orElseThrow().plusMillis(900);
        Path left = dir.resolve("keys-removal").resolve(a + ".00112233aabbccdd");
        Files.createDirectories(left.getParent());
        Files.writeString(left, "{\"version\":1,\"slot\":\"keys/" + a + "\",\"host\":\"" + io.backupkit.internal.HostName.get()
                + "\",\"pid\":" + self.pid() + ",\"processStart\":\"" + rounded + "\"}");
        // past the grace a dead writer gets, well before the stale age
        Files.setLastModifiedTime(left, java.nio.file.attribute.FileTime.from(java.time.Instant.now().minusSeconds(30)));
        try (Repository repo = Repository.builder().storage(LocalStorage.of(dir)).keyProvider(Repos.password(second)).open()) {
            String b = repo.keys().list().stream().filter(KeySlotInfo::current).findFirst().orElseThrow().id();
            ConfigurationException e = assertThrows(ConfigurationException.class, () -> repo.keys().remove(b));
            assertTrue(e.getMessage().contains("nothing was removed"), e.getMessage());
            assertEquals(2, repo.keys().list().size(), "both slots are still there");
        }
        assertTrue(Files.exists(left), "a running remover's announcement is not removed as left over");
    }

    @Test
    void slotLeftByAnInterruptedCreate_doesNotCountAsASecondSlot() {
        // an orphan: same password, another master key, left by a create that died
        Forge.interruptedCreate(dir, Repos.password(Repos.PASSWORD));
        String orphan = LocalStorage.of(dir).list("keys/").get(0).name();
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).create()) {
            String real = repo.keys().list().stream().filter(KeySlotInfo::current).findFirst().orElseThrow().id();
            assertFalse(orphan.endsWith(real));
            ConfigurationException e = assertThrows(ConfigurationException.class, () -> repo.keys().remove(real));
            assertTrue(e.getMessage().contains("last"), e.getMessage());
        }
    }

    @Test
    void missingKeyFile_isASetupError_notASkippedSlot() throws Exception {
        Path keyFile = KeyProviders.generateKeyFile(dir.resolve("k.key"));
        Path repoDir = dir.resolve("repo");
        Repository.builder().storage(LocalStorage.of(repoDir)).keyFile(keyFile).create().close();
        Files.delete(keyFile);
        ConfigurationException e = assertThrows(ConfigurationException.class,
                () -> Repository.builder().storage(LocalStorage.of(repoDir)).keyFile(keyFile).open());
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
    }
}
