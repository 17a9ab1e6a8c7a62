package io.backupkit.core;

import io.backupkit.ConfigurationException;
import io.backupkit.IntegrityException;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sealed records: write once, unreadable and unalterable for whoever only has the storage. */
class RecordsTest {
    @TempDir
    Path dir;

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aRecordIsWrittenOnceAndReadBack() {
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).create()) {
            assertTrue(repo.records().create("ops/job/claims/100", utf8("first")));
            assertFalse(repo.records().create("ops/job/claims/100", utf8("second")), "the second writer loses");
            assertArrayEquals(utf8("first"), repo.records().read("ops/job/claims/100").orElseThrow());
            assertTrue(repo.records().read("ops/job/claims/101").isEmpty());
            repo.records().create("ops/job/claims/101", utf8("x"));
            repo.records().create("ops/other/runs/1", utf8("y"));
            assertEquals(List.of("ops/job/claims/100", "ops/job/claims/101"),
                    repo.records().list("ops/job/").stream().sorted().toList());
            repo.records().delete("ops/job/claims/100");
            repo.records().delete("ops/job/claims/100");
            assertEquals(List.of("ops/job/claims/101"), repo.records().list("ops/job/"));
        }
    }

    @Test
    void theStorageHoldsNoPlaintextAndAnAlteredRecordFailsToOpen() throws Exception {
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).create()) {
            repo.records().create("ops/job/runs/1", utf8("secret-looking run record"));
        }
        Path stored = dir.resolve("records/ops/job/runs/1");
        byte[] bytes = Files.readAllBytes(stored);
        assertFalse(new String(bytes, StandardCharsets.ISO_8859_1).contains("secret-looking"), "records are encrypted");
        bytes[bytes.length / 2] ^= 1;
        Files.delete(stored);
        Files.write(stored, bytes);
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).open()) {
            IntegrityException e = assertThrows(IntegrityException.class, () -> repo.records().read("ops/job/runs/1"));
            assertTrue(e.getMessage().contains("records/ops/job/runs/1"), e.getMessage());
        }
    }

    @Test
    void aRecordMovedToAnotherNameFailsToOpen() throws Exception {
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).create()) {
            repo.records().create("ops/job/claims/100", utf8("claimed"));
        }
        // someone with write access to the storage replays an old claim for a later tick
        Files.copy(dir.resolve("records/ops/job/claims/100"), dir.resolve("records/ops/job/claims/200"));
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).open()) {
            assertThrows(IntegrityException.class, () -> repo.records().read("ops/job/claims/200"));
        }
    }

    @Test
    void namesThatCouldEscapeOrAreEmptyAreRefused() {
        try (Repository repo = Repos.encrypted(LocalStorage.of(dir)).create()) {
            for (String bad : new String[] {"", "/abs", "a//b", "a/../b", "..", "a/", "a b", "ä"}) {
                assertThrows(ConfigurationException.class, () -> repo.records().create(bad, utf8("x")), bad);
            }
        }
    }

    @Test
    void aClosedRepositoryRefusesRecordsLikeEveryOtherOperation() {
        Repository repo = Repos.encrypted(LocalStorage.of(dir)).create();
        repo.close();
        // a lock renewal thread that outlives the repository must not keep writing with its keys
        assertThrows(IllegalStateException.class, () -> repo.records().create("ops/job/lease/1", utf8("held")));
        assertFalse(Files.exists(dir.resolve("records/ops/job/lease/1")));
    }
}
