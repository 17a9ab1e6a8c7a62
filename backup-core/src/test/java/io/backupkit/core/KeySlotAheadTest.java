package io.backupkit.core;

import io.backupkit.KeyException;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.spi.KeyProvider;
import io.backupkit.spi.KeySlot;
import io.backupkit.testkit.InterceptingStorage;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With a metadata cache directory, a password open starts Argon2id over the key slot that opened the repository last
 * time, before the storage answers. These tests pin down what that copy may and may not do: it saves reading the
 * slot and trying the other passwords' slots first, but a slot removed from the repository opens nothing, a damaged
 * copy is never believed, and a wrong password stays wrong.
 */
class KeySlotAheadTest {
    private static final char[] OTHER = "another password, for the second slot".toCharArray();
    private static final char[] THIRD = "a third password, for the third slot".toCharArray();

    @TempDir
    Path dir;
    private InterceptingStorage storage;
    private Path cache;

    @BeforeEach
    void createRepository() {
        storage = new InterceptingStorage(LocalStorage.of(dir.resolve("repo")));
        cache = dir.resolve("cache");
        Repos.encrypted(storage).create().close();
    }

    private Repository open(KeyProvider provider) {
        return Repository.builder().storage(storage).keyProvider(provider).cacheDirectory(cache).open();
    }

    @Test
    void theSecondOpen_unwrapsTheKeptSlot_withoutReadingItFromStorage() {
        CountingProvider first = new CountingProvider(Repos.PASSWORD);
        open(first).close();
        assertEquals(1, storage.requests("get", "keys/"), storage.counters().toString());
        assertEquals(1, first.unwraps.get());

        storage.reset();
        CountingProvider second = new CountingProvider(Repos.PASSWORD);
        try (Repository repo = open(second)) {
            assertEquals(0, storage.requests("get", "keys/"), "the kept slot is not read again: " + storage.counters());
            assertEquals(1, storage.requests("list", "keys/"), "but the slots are still listed: " + storage.counters());
            assertEquals(1, second.unwraps.get());
            assertTrue(repo.snapshots().list().isEmpty());
        }
    }

    @Test
    void withoutACacheDirectory_nothingIsKept_andTheSlotIsReadEveryTime() {
        Repos.encrypted(storage).open().close();
        storage.reset();
        Repos.encrypted(storage).open().close();
        assertEquals(1, storage.requests("get", "keys/"));
        assertTrue(Files.notExists(cache));
    }

    @Test
    void aSlotRemovedFromTheRepository_opensNothing_whateverTheCacheHolds() {
        String removed;
        try (Repository repo = open(Repos.password(Repos.PASSWORD))) {
            removed = repo.keys().list().get(0).id();
        }
        assertEquals(1, keptFiles().size());
        // another user, without this cache, adds a password and removes the first one
        try (Repository repo = Repos.encrypted(storage).open()) {
            repo.keys().add(Repos.password(OTHER));
        }
        try (Repository repo = Repository.builder().storage(storage).keyProvider(Repos.password(OTHER)).open()) {
            repo.keys().remove(removed);
            assertEquals(1, repo.keys().list().size());
        }
        assertTrue(keptFiles().get(0).getFileName().toString().startsWith(removed), keptFiles() + " " + removed);

        CountingProvider revoked = new CountingProvider(Repos.PASSWORD);
        KeyException e = assertThrows(KeyException.class, () -> open(revoked));
        assertTrue(e.getMessage().startsWith("wrong password: none of the 1 key slots"), e.getMessage());
        assertEquals(2, revoked.unwraps.get(), "the kept slot was unwrapped ahead (and opened), then not used; the listed one was tried");
        open(Repos.password(OTHER)).close();
    }

    @Test
    void aDamagedCopy_isNotBelieved_andIsReplaced() throws IOException {
        open(Repos.password(Repos.PASSWORD)).close();
        List<Path> kept = keptFiles();
        assertEquals(1, kept.size());
        byte[] original = Files.readAllBytes(kept.get(0));
        byte[] damaged = original.clone();
        damaged[damaged.length / 2] ^= 1;
        Files.write(kept.get(0), damaged);

        storage.reset();
        CountingProvider provider = new CountingProvider(Repos.PASSWORD);
        open(provider).close();
        assertEquals(1, storage.requests("get", "keys/"), "the slot is read from storage again: " + storage.counters());
        assertEquals(1, provider.unwraps.get());
        assertEquals(List.of(kept.get(0)), keptFiles());
        assertEquals(new String(original, java.nio.charset.StandardCharsets.UTF_8),
                Files.readString(kept.get(0)), "the damaged copy is replaced by the slot read from storage");
    }

    @Test
    void aWrongPassword_isStillWrong_withASlotKept() {
        open(Repos.password(Repos.PASSWORD)).close();
        KeyException e = assertThrows(KeyException.class, () -> open(Repos.password("not the password".toCharArray())));
        assertTrue(e.getMessage().startsWith("wrong password: none of the 1 key slots"), e.getMessage());
        open(Repos.password(Repos.PASSWORD)).close();
    }

    @Test
    void withSeveralPasswords_theKeptSlotIsTriedFirst() {
        try (Repository repo = open(Repos.password(Repos.PASSWORD))) {
            repo.keys().add(Repos.password(OTHER));
            repo.keys().add(Repos.password(THIRD));
        }
        for (char[] password : new char[][] {Repos.PASSWORD, OTHER, THIRD}) {
            open(new CountingProvider(password)).close();
            CountingProvider again = new CountingProvider(password);
            open(again).close();
            assertEquals(1, again.unwraps.get(), "one Argon2id run, whichever of the three slots is listed first");
        }
    }

    private List<Path> keptFiles() {
        try (Stream<Path> s = Files.walk(cache.resolve("key-slots"))) {
            return s.filter(Files::isRegularFile).toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A password provider that counts how often it unwraps a slot (each is one Argon2id run). */
    private static final class CountingProvider implements KeyProvider {
        final AtomicInteger unwraps = new AtomicInteger();
        private final KeyProvider delegate;

        CountingProvider(char[] password) {
            this.delegate = Repos.password(password);
        }

        @Override
        public String type() {
            return delegate.type();
        }

        @Override
        public String describe() {
            return delegate.describe();
        }

        @Override
        public KeySlot wrap(byte[] masterKey) {
            return delegate.wrap(masterKey);
        }

        @Override
        public Optional<byte[]> unwrap(KeySlot slot) {
            unwraps.incrementAndGet();
            return delegate.unwrap(slot);
        }
    }
}
