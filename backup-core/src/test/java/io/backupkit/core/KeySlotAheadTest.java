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

        // slow enough that the run ahead is still going when the listed slot comes up
        CountingProvider revoked = new CountingProvider(Repos.PASSWORD, 200);
        KeyException e = assertThrows(KeyException.class, () -> open(revoked));
        assertTrue(e.getMessage().startsWith("wrong password: none of the 1 key slots"), e.getMessage());
        assertEquals(2, revoked.unwraps.get(), "the kept slot was unwrapped ahead (and opened), then not used; the listed one was tried");
        assertEquals(1, revoked.maxInFlight.get(), "the run ahead ended before the listed slot was unwrapped");
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
        // the kept slot is now THIRD's: PASSWORD runs ahead over it in vain, and only then over its own slot
        CountingProvider switched = new CountingProvider(Repos.PASSWORD, 200);
        open(switched).close();
        assertTrue(switched.unwraps.get() >= 2, "the kept slot ahead, then the listed ones: " + switched.unwraps.get());
        assertEquals(1, switched.maxInFlight.get(), "never two Argon2id runs at once");
    }

    @Test
    void anOpenThatFailsBeforeTheSlots_leavesNoRunBehind() throws IOException {
        open(Repos.password(Repos.PASSWORD)).close();
        Files.delete(dir.resolve("repo").resolve("config"));
        CountingProvider slow = new CountingProvider(Repos.PASSWORD, 500);
        io.backupkit.ConfigurationException e = assertThrows(io.backupkit.ConfigurationException.class, () -> open(slow));
        assertTrue(e.getMessage().startsWith("no repository at "), e.getMessage());
        assertEquals(1, slow.unwraps.get(), "the kept slot was unwrapped ahead");
        assertEquals(0, slow.inFlight.get(), "and that run ended before open() threw");
    }

    @Test
    void theKeptSlot_isReadableByItsOwnerOnly() throws IOException {
        open(Repos.password(Repos.PASSWORD)).close();
        Path kept = keptFiles().get(0);
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.getFileStore(kept).supportsFileAttributeView(
                java.nio.file.attribute.PosixFileAttributeView.class), "POSIX permissions");
        for (Path d : List.of(cache.resolve("key-slots"), kept.getParent())) {
            assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(d)), d.toString());
        }
    }

    @Test
    void twoLocationsSharingACache_keepOneSlotEach() {
        InterceptingStorage second = new InterceptingStorage(LocalStorage.of(dir.resolve("second")));
        Repository.builder().storage(second).keyProvider(Repos.password(OTHER)).create().close();
        open(Repos.password(Repos.PASSWORD)).close();
        Repository.builder().storage(second).keyProvider(Repos.password(OTHER)).cacheDirectory(cache).open().close();
        assertEquals(2, keptFiles().size(), keptFiles().toString());

        storage.reset();
        second.reset();
        CountingProvider first = new CountingProvider(Repos.PASSWORD);
        open(first).close();
        CountingProvider other = new CountingProvider(OTHER);
        Repository.builder().storage(second).keyProvider(other).cacheDirectory(cache).open().close();
        assertEquals(0, storage.requests("get", "keys/") + second.requests("get", "keys/"),
                storage.counters() + " " + second.counters());
        assertEquals(1, first.unwraps.get());
        assertEquals(1, other.unwraps.get());
    }

    @Test
    void aStorageGivenWithALocation_filesTheSlotUnderTheStorageItOpens() {
        Repository.builder().storage(storage).location("file:/somewhere/else").keyProvider(Repos.password(Repos.PASSWORD))
                .cacheDirectory(cache).open().close();
        storage.reset();
        open(Repos.password(Repos.PASSWORD)).close();
        assertEquals(0, storage.requests("get", "keys/"), storage.counters().toString());
    }

    @Test
    void aKeyFile_isNeitherRunAheadNorKept() {
        Path keyFile = io.backupkit.KeyProviders.generateKeyFile(dir.resolve("key"));
        InterceptingStorage withKeyFile = new InterceptingStorage(LocalStorage.of(dir.resolve("keyfile-repo")));
        Repository.builder().storage(withKeyFile).keyFile(keyFile).create().close();
        for (int i = 0; i < 2; i++) {
            Repository.builder().storage(withKeyFile).keyFile(keyFile).cacheDirectory(cache).open().close();
        }
        assertTrue(Files.notExists(cache.resolve("key-slots")), "nothing kept for a key file");
    }

    /**
     * Several processes (here threads, each its own open) with one cache directory at once: the first round finds no
     * copy and all of them write one, the second finds the copy while the others may be replacing it. Every open
     * succeeds, and what is left is one intact copy.
     */
    @Test
    void severalOpensAtOnce_withOneCache_allOpen_andLeaveOneIntactCopy() throws Exception {
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            for (int round = 0; round < 2; round++) {
                java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
                List<java.util.concurrent.Future<Integer>> opens = new java.util.ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    opens.add(pool.submit(() -> {
                        start.await();
                        try (Repository repo = open(Repos.password(Repos.PASSWORD))) {
                            return repo.snapshots().list().size();
                        }
                    }));
                }
                start.countDown();
                for (java.util.concurrent.Future<Integer> f : opens) {
                    assertEquals(0, f.get(2, java.util.concurrent.TimeUnit.MINUTES));
                }
                List<Path> kept = keptFiles();
                assertEquals(1, kept.size(), "round " + round + ": " + kept);
                String id = kept.get(0).getFileName().toString();
                assertEquals(id, io.backupkit.internal.crypto.Hashes.sha256Hex(Files.readAllBytes(kept.get(0))), "the copy is intact");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private List<Path> keptFiles() {
        try (Stream<Path> s = Files.walk(cache.resolve("key-slots"))) {
            return s.filter(Files::isRegularFile).toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * A password provider that counts how often it unwraps a slot (each is one Argon2id run), how many run at once
     * (at most one: two Argon2id arrays must never share the heap) and, with a delay, stays busy long enough for a
     * run left behind by open() to be seen.
     */
    private static final class CountingProvider implements KeyProvider {
        final AtomicInteger unwraps = new AtomicInteger();
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicInteger maxInFlight = new AtomicInteger();
        private final KeyProvider delegate;
        private final long delayMillis;

        CountingProvider(char[] password) {
            this(password, 0);
        }

        CountingProvider(char[] password, long delayMillis) {
            this.delegate = Repos.password(password);
            this.delayMillis = delayMillis;
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
            maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            try {
                if (delayMillis > 0) {
                    Thread.sleep(delayMillis);
                }
                return delegate.unwrap(slot);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            } finally {
                inFlight.decrementAndGet();
            }
        }
    }
}
