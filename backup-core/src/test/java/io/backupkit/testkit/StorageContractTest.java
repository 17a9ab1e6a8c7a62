package io.backupkit.testkit;

import io.backupkit.ObjectNotFoundException;
import io.backupkit.StorageException;
import io.backupkit.spi.ObjectInfo;
import io.backupkit.spi.Payload;
import io.backupkit.spi.Storage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The behaviour every {@link Storage} must have. A storage module's test extends this class and
 * returns a fresh, empty storage from {@link #newStorage()}; published in backup-core's test jar.
 */
public abstract class StorageContractTest {
    protected Storage storage;

    /** A new, empty storage; closed after each test. */
    protected abstract Storage newStorage() throws Exception;

    /** Size of the large-object test; storages with multipart uploads make it exceed one part. */
    protected int largeObjectSize() {
        return 20 * 1024 * 1024 + 12345;
    }

    @BeforeEach
    void openStorage() throws Exception {
        storage = newStorage();
    }

    @AfterEach
    void closeStorage() {
        if (storage != null) {
            storage.close();
        }
    }

    protected static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private byte[] read(String name) throws IOException {
        try (InputStream in = storage.get(name)) {
            return in.readAllBytes();
        }
    }

    @Test
    void putThenGet_returnsSameBytes() throws IOException {
        byte[] data = random(100_000, 1);
        assertTrue(storage.putIfAbsent("data/ab/object1", Payload.of(data)));
        assertArrayEquals(data, read("data/ab/object1"));
        assertArrayEquals(data, storage.readAll("data/ab/object1"));
    }

    @Test
    void putIfAbsent_whenObjectExists_returnsFalseAndKeepsOriginal() throws IOException {
        byte[] first = random(1000, 2);
        assertTrue(storage.putIfAbsent("snapshots/x", Payload.of(first)));
        assertFalse(storage.putIfAbsent("snapshots/x", Payload.of(random(2000, 3))));
        assertArrayEquals(first, read("snapshots/x"));
        assertEquals(1000, storage.stat("snapshots/x").orElseThrow().size());
    }

    /** putNew (random names, such as lock objects) writes like putIfAbsent and never replaces an existing object. */
    @Test
    void putNew_writesTheObject_andKeepsAnExistingOne() throws IOException {
        byte[] first = random(700, 4);
        assertTrue(storage.putNew("locks/6f1c0e2a9b7d4c35", Payload.of(first)));
        assertArrayEquals(first, read("locks/6f1c0e2a9b7d4c35"));
        assertFalse(storage.putNew("locks/6f1c0e2a9b7d4c35", Payload.of(random(900, 5))));
        assertArrayEquals(first, read("locks/6f1c0e2a9b7d4c35"));
    }

    /**
     * A storage that says it is done with a payload when a put returns ({@code readsPayloadOnlyDuringPut})
     * keeps what it was given when the caller then overwrites the array, as a backup does when it fills its
     * next pack in the buffer of the last one: small and large (multipart) objects, part of an array.
     */
    @Test
    void aStorageDoneWithPayloadsOnReturn_keepsTheObjectAsGiven_whenTheArrayIsOverwrittenAfterThePut() throws IOException {
        Assumptions.assumeTrue(storage.readsPayloadOnlyDuringPut(), "the storage may keep a payload's array");
        for (int size : new int[] {100_000, largeObjectSize()}) {
            byte[] buffer = random(size + 100, size);
            byte[] given = Arrays.copyOfRange(buffer, 50, 50 + size);
            assertTrue(storage.putIfAbsent("data/cd/reused-" + size, Payload.of(buffer, 50, size)));
            assertTrue(storage.putNew("locks/reused-" + size, Payload.of(buffer, 50, size)));
            Arrays.fill(buffer, (byte) 0x5a);
            assertArrayEquals(given, read("data/cd/reused-" + size));
            assertArrayEquals(given, read("locks/reused-" + size));
        }
    }

    @Test
    void emptyObject_roundTrips() throws IOException {
        assertTrue(storage.putIfAbsent("locks/empty", Payload.of(new byte[0])));
        assertArrayEquals(new byte[0], read("locks/empty"));
        assertEquals(0, storage.stat("locks/empty").orElseThrow().size());
    }

    @Test
    void streamingPayload_roundTrips() throws IOException {
        byte[] data = random(300_000, 4);
        Payload streaming = new Payload() {
            public long length() {
                return data.length;
            }

            public InputStream open() {
                return new ByteArrayInputStream(data);
            }
        };
        assertTrue(storage.putIfAbsent("index/streamed", streaming));
        assertArrayEquals(data, read("index/streamed"));
    }

    @Test
    void largeObject_roundTripsAndSupportsRanges() throws IOException {
        byte[] data = random(largeObjectSize(), 5);
        assertTrue(storage.putIfAbsent("data/ff/large", Payload.of(data)));
        assertEquals(data.length, storage.stat("data/ff/large").orElseThrow().size());
        assertArrayEquals(data, read("data/ff/large"));
        int off = data.length - 5_000_000;
        try (InputStream in = storage.get("data/ff/large", off, 4_000_000)) {
            byte[] part = in.readAllBytes();
            assertEquals(4_000_000, part.length);
            for (int i = 0; i < part.length; i += 9973) {
                assertEquals(data[off + i], part[i]);
            }
        }
    }

    @Test
    void rangedGet_returnsExactlyTheRange() throws IOException {
        byte[] data = random(10_000, 6);
        storage.putIfAbsent("data/00/ranged", Payload.of(data));
        int[][] ranges = {{0, 1}, {0, 10_000}, {9_999, 1}, {1234, 4321}, {5000, 0}};
        for (int[] r : ranges) {
            try (InputStream in = storage.get("data/00/ranged", r[0], r[1])) {
                byte[] expected = java.util.Arrays.copyOfRange(data, r[0], r[0] + r[1]);
                assertArrayEquals(expected, in.readAllBytes(), "range " + r[0] + "+" + r[1]);
            }
        }
    }

    @Test
    void rangedGet_beyondEnd_fails() {
        storage.putIfAbsent("data/00/short", Payload.of(random(100, 7)));
        assertThrows(StorageException.class, () -> {
            try (InputStream in = storage.get("data/00/short", 50, 100)) {
                byte[] got = in.readAllBytes();
                if (got.length != 100) {
                    throw new StorageException("short read of " + got.length + " bytes", false);
                }
            }
        });
    }

    @Test
    void get_missingObject_throwsObjectNotFound() {
        ObjectNotFoundException e = assertThrows(ObjectNotFoundException.class, () -> {
            try (InputStream in = storage.get("snapshots/missing")) {
                in.readAllBytes();
            }
        });
        assertEquals("snapshots/missing", e.objectName());
        assertThrows(ObjectNotFoundException.class, () -> storage.readAll("keys/missing"));
        assertThrows(ObjectNotFoundException.class, () -> {
            try (InputStream in = storage.get("data/00/missing", 0, 10)) {
                in.readAllBytes();
            }
        });
    }

    @Test
    void stat_reportsSizeOrEmpty() {
        storage.putIfAbsent("config", Payload.of(random(321, 8)));
        ObjectInfo info = storage.stat("config").orElseThrow();
        assertEquals("config", info.name());
        assertEquals(321, info.size());
        assertTrue(storage.stat("nope").isEmpty());
    }

    @Test
    void list_returnsObjectsUnderPrefixOnly() {
        storage.putIfAbsent("config", Payload.of(random(10, 9)));
        storage.putIfAbsent("data/00/p1", Payload.of(random(11, 10)));
        storage.putIfAbsent("data/01/p2", Payload.of(random(12, 11)));
        storage.putIfAbsent("index/i1", Payload.of(random(13, 12)));
        storage.putIfAbsent("snapshots/s1", Payload.of(random(14, 13)));

        assertEquals(Set.of("data/00/p1", "data/01/p2"), names(storage.list("data/")));
        assertEquals(Set.of("data/01/p2"), names(storage.list("data/01/")));
        assertEquals(Set.of("index/i1"), names(storage.list("index/")));
        assertEquals(Set.of("config", "data/00/p1", "data/01/p2", "index/i1", "snapshots/s1"), names(storage.list("")));
        assertEquals(Set.of(), names(storage.list("locks/")));
        ObjectInfo p2 = storage.list("data/01/").get(0);
        assertEquals(12, p2.size());
    }

    /** Prune lists its state object by its whole name for the storage's time of it, the kind of time locks have. */
    @Test
    void list_withAnObjectsWholeNameAsPrefix_returnsThatObject() {
        storage.putIfAbsent("index/state/ab12", Payload.of(random(15, 30)));
        storage.putIfAbsent("index/state/ab123", Payload.of(random(16, 31)));
        storage.putIfAbsent("index/i1", Payload.of(random(17, 32)));

        assertEquals(Set.of("index/state/ab12", "index/state/ab123"), names(storage.list("index/state/ab12")));
        assertEquals(Set.of("index/state/ab123"), names(storage.list("index/state/ab123")));
        ObjectInfo o = storage.list("index/state/ab123").get(0);
        assertEquals(16, o.size());
        assertEquals(storage.list("index/").stream().filter(l -> l.name().equals("index/state/ab123")).findFirst().orElseThrow()
                .modified(), o.modified(), "the time the listing of its directory shows");
    }

    @Test
    void list_handlesManyObjects() {
        for (int i = 0; i < 1100; i++) {
            storage.putIfAbsent(String.format("index/%04d", i), Payload.of(new byte[]{(byte) i}));
        }
        assertEquals(1100, storage.list("index/").size());
    }

    @Test
    void delete_removesAndIsIdempotent() {
        storage.putIfAbsent("locks/l1", Payload.of(random(5, 14)));
        storage.delete("locks/l1");
        assertTrue(storage.stat("locks/l1").isEmpty());
        storage.delete("locks/l1");
        storage.delete("locks/never-existed");
        assertTrue(storage.putIfAbsent("locks/l1", Payload.of(random(5, 15))), "a deleted name can be written again");
    }

    @Test
    void batchDelete_removesAll() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            names.add("data/aa/p" + i);
            storage.putIfAbsent("data/aa/p" + i, Payload.of(random(10, i)));
        }
        storage.putIfAbsent("data/bb/keep", Payload.of(random(10, 99)));
        storage.delete(names);
        assertEquals(Set.of("data/bb/keep"), names(storage.list("data/")));
    }

    @Test
    void concurrentPutIfAbsent_exactlyOneWins() throws Exception {
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                byte[] data = random(50_000, 100 + t);
                Callable<Boolean> put = () -> {
                    start.await();
                    return storage.putIfAbsent("locks/contended", Payload.of(data));
                };
                results.add(pool.submit(put));
            }
            start.countDown();
            int winners = 0;
            for (Future<Boolean> f : results) {
                winners += f.get() ? 1 : 0;
            }
            assertEquals(1, winners);
            byte[] stored = read("locks/contended");
            assertEquals(50_000, stored.length);
        } finally {
            pool.shutdownNow();
        }
    }

    private static Set<String> names(List<ObjectInfo> infos) {
        return infos.stream().map(ObjectInfo::name).collect(Collectors.toSet());
    }
}
