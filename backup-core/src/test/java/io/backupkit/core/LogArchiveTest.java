package io.backupkit.core;

import io.backupkit.ConfigurationException;
import io.backupkit.IntegrityException;
import io.backupkit.LocalStorage;
import io.backupkit.LogArchive;
import io.backupkit.LogConflictException;
import io.backupkit.LogObject;
import io.backupkit.LogObjectInfo;
import io.backupkit.LogPutResult;
import io.backupkit.ObjectNotFoundException;
import io.backupkit.Repository;
import io.backupkit.spi.ObjectInfo;
import io.backupkit.spi.Payload;
import io.backupkit.spi.Storage;
import io.backupkit.testkit.DumpLikeData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The engine-neutral log archive: write-once, idempotent, sealed with the name bound in, listable without downloads. */
class LogArchiveTest {
    @TempDir
    Path dir;
    CountingStorage storage;
    Repository repo;
    LogArchive archive;

    @BeforeEach
    void open() {
        storage = new CountingStorage(LocalStorage.of(dir.resolve("repo")));
        repo = Repos.encrypted(storage).create();
        archive = LogArchive.open(repo, "wal");
    }

    @AfterEach
    void close() {
        repo.close();
    }

    static byte[] content(long seed, int size) {
        try (InputStream in = DumpLikeData.stream(seed, size)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 1000, 1024 * 1024, 1024 * 1024 + 1, 3 * 1024 * 1024 + 17})
    void put_thenRead_returnsTheSameBytes(int size) {
        byte[] data = content(size, size);
        LogPutResult r = archive.put("1/00000001/seg", data, Map.of("timeline", "1"));
        assertEquals(LogPutResult.Status.STORED, r.status());
        assertEquals(size, r.length());
        assertArrayEquals(data, archive.readAllBytes("1/00000001/seg"));
        LogObjectInfo info = archive.info("1/00000001/seg").orElseThrow();
        assertEquals(size, info.length());
        assertEquals(r.sha256(), info.sha256());
        assertEquals(Map.of("timeline", "1"), info.attributes());
    }

    @Test
    void put_ofAFile_streamsItAndStoresItCompressed() throws IOException {
        byte[] data = content(7, 16 * 1024 * 1024);
        Path file = dir.resolve("000000010000000000000003");
        Files.write(file, data);
        LogPutResult r = archive.put("x/000000010000000000000003", file, Map.of());
        assertEquals(LogPutResult.Status.STORED, r.status());
        assertTrue(r.storedSize() < data.length, "compressed: " + r.storedSize());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(data.length, archive.read("x/000000010000000000000003", out));
        assertArrayEquals(data, out.toByteArray());
    }

    @Test
    void put_aLargeObject_spillsToDiskAndStillRoundTrips() throws IOException {
        // incompressible and beyond the in-memory limit of the object builder (64 MiB)
        byte[] data = new byte[66 * 1024 * 1024];
        new Random(3).nextBytes(data);
        Path file = dir.resolve("big");
        Files.write(file, data);
        archive.put("big", file, Map.of());
        data = null;
        byte[] expected = Files.readAllBytes(file);
        assertArrayEquals(expected, archive.readAllBytes("big"));
    }

    @Test
    void put_sameNameSameContent_succeedsAgainWithoutWriting() {
        byte[] data = content(1, 100_000);
        assertEquals(LogPutResult.Status.STORED, archive.put("a/b", data, Map.of()).status());
        int writes = storage.puts.get();
        LogPutResult again = archive.put("a/b", data.clone(), Map.of());
        assertEquals(LogPutResult.Status.ALREADY_PRESENT, again.status());
        assertEquals(writes, storage.puts.get(), "a retry writes nothing");
    }

    @Test
    void put_sameNameDifferentContent_isAHardErrorAndKeepsTheFirst() {
        byte[] first = content(1, 100_000);
        byte[] second = first.clone();
        second[5000] ^= 1;
        archive.put("a/b", first, Map.of());
        LogConflictException e = assertThrows(LogConflictException.class, () -> archive.put("a/b", second, Map.of()));
        assertEquals("wal/a/b", e.objectName());
        assertTrue(e.getMessage().startsWith("wal/a/b already holds different content (100000 bytes, SHA-256 "), e.getMessage());
        assertTrue(e.getMessage().contains("written once and never replaced"), e.getMessage());
        assertArrayEquals(first, archive.readAllBytes("a/b"));
    }

    @Test
    void put_concurrentlyWithTheSameContent_storesOnceAndAllSucceed() throws Exception {
        byte[] data = content(2, 2 * 1024 * 1024);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<LogPutResult>> fs = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                fs.add(pool.submit(() -> archive.put("race", data, Map.of())));
            }
            int stored = 0;
            for (Future<LogPutResult> f : fs) {
                if (f.get().status() == LogPutResult.Status.STORED) {
                    stored++;
                }
            }
            assertEquals(1, stored);
        } finally {
            pool.shutdownNow();
        }
        assertArrayEquals(data, archive.readAllBytes("race"));
    }

    @Test
    void aRenamedObject_failsToAuthenticate() throws IOException {
        archive.put("1/a", content(1, 5000), Map.of());
        Path repoDir = dir.resolve("repo");
        Files.createDirectories(repoDir.resolve("wal/1"));
        Files.copy(repoDir.resolve("wal/1/a"), repoDir.resolve("wal/1/b"));
        IntegrityException e = assertThrows(IntegrityException.class, () -> archive.readAllBytes("1/b"));
        assertEquals("wal/1/b", e.objectName());
        assertTrue(e.getMessage().contains("renamed or swapped"), e.getMessage());
        assertThrows(IntegrityException.class, () -> archive.info("1/b"));
    }

    @Test
    void swappedObjects_bothFail() throws IOException {
        archive.put("s/x", content(1, 3 * 1024 * 1024), Map.of());
        archive.put("s/y", content(2, 3 * 1024 * 1024), Map.of());
        Path x = dir.resolve("repo/wal/s/x");
        Path y = dir.resolve("repo/wal/s/y");
        byte[] bx = Files.readAllBytes(x);
        Files.write(x, Files.readAllBytes(y));
        Files.write(y, bx);
        assertThrows(IntegrityException.class, () -> archive.readAllBytes("s/x"));
        assertThrows(IntegrityException.class, () -> archive.readAllBytes("s/y"));
    }

    @Test
    void aTruncatedObject_failsEvenAtAPieceBoundary() throws IOException {
        archive.put("t", content(4, 3 * 1024 * 1024), Map.of());
        Path p = dir.resolve("repo/wal/t");
        byte[] all = Files.readAllBytes(p);
        // find the start of the last piece by walking the frames
        int headerLength = ((all[4] & 0xff) << 24) | ((all[5] & 0xff) << 16) | ((all[6] & 0xff) << 8) | (all[7] & 0xff);
        int pos = 8 + headerLength;
        int lastStart = pos;
        while (pos < all.length) {
            lastStart = pos;
            int len = ((all[pos] & 0xff) << 24) | ((all[pos + 1] & 0xff) << 16) | ((all[pos + 2] & 0xff) << 8) | (all[pos + 3] & 0xff);
            pos += 4 + len;
        }
        Files.write(p, Arrays.copyOf(all, lastStart));
        IntegrityException e = assertThrows(IntegrityException.class, () -> archive.readAllBytes("t"));
        assertTrue(e.getMessage().contains("cut short"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
    void aFlippedByteAnywhere_isDetectedNeverReturnedAsData(long seed) throws IOException {
        byte[] data = content(seed, 2 * 1024 * 1024 + 100);
        archive.put("f", data, Map.of());
        Path p = dir.resolve("repo/wal/f");
        byte[] all = Files.readAllBytes(p);
        int at = new Random(seed).nextInt(all.length);
        all[at] ^= (byte) (1 << new Random(seed + 1).nextInt(8));
        Files.write(p, all);
        assertThrows(IntegrityException.class, () -> archive.readAllBytes("f"), "flip at " + at);
    }

    @Test
    void list_givesRelativeSortedNamesWithoutDownloading() {
        archive.put("7/00000002/b", new byte[10], Map.of());
        archive.put("7/00000001/a", new byte[10], Map.of());
        archive.put("7/00000001/c", new byte[10], Map.of());
        archive.put("8/00000001/a", new byte[10], Map.of());
        int gets = storage.gets.get();
        List<LogObject> l = archive.list("7/");
        assertEquals(List.of("7/00000001/a", "7/00000001/c", "7/00000002/b"), l.stream().map(LogObject::name).toList());
        assertTrue(l.get(0).storedSize() > 10);
        assertEquals(List.of("7/00000001/a", "7/00000001/c"), archive.list("7/00000001/").stream().map(LogObject::name).toList());
        assertEquals(gets, storage.gets.get(), "listing reads no object");
    }

    @Test
    void delete_removesObjects() {
        archive.put("d/1", new byte[1], Map.of());
        archive.put("d/2", new byte[1], Map.of());
        archive.put("d/3", new byte[1], Map.of());
        assertEquals(2, archive.delete(List.of("d/1", "d/2")));
        archive.delete("d/missing");
        assertEquals(List.of("d/3"), archive.list("d/").stream().map(LogObject::name).toList());
        assertFalse(archive.exists("d/1"));
        assertThrows(ObjectNotFoundException.class, () -> archive.readAllBytes("d/1"));
    }

    @Test
    void invalidNamesAndNamespaces_areRefused() {
        for (String bad : List.of("", "/a", "a/", "a//b", "../x", "a/../b", ".tmp-x", "a b", "a\\b")) {
            assertThrows(ConfigurationException.class, () -> archive.put(bad, new byte[1], Map.of()), bad);
        }
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> LogArchive.open(repo, "snapshots"));
        assertTrue(e.getMessage().contains("invalid log archive namespace 'snapshots'"), e.getMessage());
        assertThrows(ConfigurationException.class, () -> LogArchive.open(repo, "Wal/x"));
    }

    @Test
    void anUnencryptedRepository_stillDetectsRenames() throws IOException {
        Path d = dir.resolve("plain");
        try (Repository plain = Repository.builder().storage(LocalStorage.of(d)).unencrypted().create()) {
            LogArchive a = LogArchive.open(plain, "binlog");
            byte[] data = content(5, 10_000);
            a.put("m/bin.000001", data, Map.of());
            assertArrayEquals(data, a.readAllBytes("m/bin.000001"));
            Files.copy(d.resolve("binlog/m/bin.000001"), d.resolve("binlog/m/bin.000002"));
            assertThrows(IntegrityException.class, () -> a.readAllBytes("m/bin.000002"));
        }
    }

    @Test
    void anotherRepositorysKey_cannotReadTheObjects() {
        archive.put("k", content(1, 1000), Map.of());
        Path other = dir.resolve("other");
        try (Repository r2 = Repos.encrypted(LocalStorage.of(other)).create()) {
            LogArchive a2 = LogArchive.open(r2, "wal");
            // copy the sealed object into the other repository: its key cannot open it
            try {
                Files.createDirectories(other.resolve("wal"));
                Files.copy(dir.resolve("repo/wal/k"), other.resolve("wal/k"));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            assertThrows(IntegrityException.class, () -> a2.readAllBytes("k"));
        }
    }

    /** Counts requests, to show listings download nothing and retries write nothing. */
    static final class CountingStorage implements Storage {
        final Storage delegate;
        final AtomicInteger gets = new AtomicInteger();
        final AtomicInteger puts = new AtomicInteger();

        CountingStorage(Storage delegate) {
            this.delegate = delegate;
        }

        @Override
        public String location() {
            return delegate.location();
        }

        @Override
        public boolean putIfAbsent(String name, Payload payload) {
            puts.incrementAndGet();
            return delegate.putIfAbsent(name, payload);
        }

        @Override
        public InputStream get(String name) {
            gets.incrementAndGet();
            return delegate.get(name);
        }

        @Override
        public InputStream get(String name, long offset, long length) {
            gets.incrementAndGet();
            return delegate.get(name, offset, length);
        }

        @Override
        public java.util.Optional<ObjectInfo> stat(String name) {
            return delegate.stat(name);
        }

        @Override
        public List<ObjectInfo> list(String prefix) {
            return delegate.list(prefix);
        }

        @Override
        public void delete(String name) {
            delegate.delete(name);
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
