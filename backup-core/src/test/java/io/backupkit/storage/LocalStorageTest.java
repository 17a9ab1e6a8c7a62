package io.backupkit.storage;

import io.backupkit.LocalStorage;
import io.backupkit.spi.Payload;
import io.backupkit.spi.Storage;
import io.backupkit.testkit.StorageContractTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalStorageTest extends StorageContractTest {
    @TempDir
    Path dir;

    @Override
    protected Storage newStorage() {
        return LocalStorage.of(dir.resolve("repo"));
    }

    @Test
    void leftoverTempFiles_areNotListed() throws Exception {
        storage.putIfAbsent("data/00/p", Payload.of(new byte[]{1, 2, 3}));
        Files.write(dir.resolve("repo/data/00/.tmp-crashed"), new byte[]{9});
        assertEquals(1, storage.list("data/").size());
        assertTrue(storage.stat("data/00/p").isPresent());
    }

    /**
     * A pack is written from a heap array; the JDK copies what one write call is given into a direct
     * buffer that it keeps for the thread. Written whole, a 16 MiB pack pinned 16 MiB of native memory
     * per uploading thread for the rest of the run (33 MB of a backup's RSS).
     */
    @Test
    void writingALargePayload_keepsNoPayloadSizedDirectBuffer() throws Exception {
        byte[] pack = new byte[16 * 1024 * 1024 + 12345];
        new Random(42).nextBytes(pack);
        long grew = directMemoryKeptByANewThread(() -> {
            storage.putIfAbsent("data/00/big", Payload.of(pack, 0, pack.length));
            try (var in = storage.get("data/00/big")) {
                assertTrue(Arrays.equals(pack, in.readAllBytes()), "the stored object differs from the payload");
            }
        });
        assertTrue(grew <= 1024 * 1024, "direct memory kept after writing 16 MiB: " + grew + " bytes");
    }

    /**
     * A restore reads ranges of up to 4 MiB of a pack into heap arrays in one call ({@code readNBytes});
     * the JDK reads a call through a temporary direct buffer of the size asked and keeps it for the
     * thread, so each fetching thread pinned 4 MiB of native memory for the rest of the run.
     */
    @Test
    void readingALargeRange_keepsNoRangeSizedDirectBuffer() throws Exception {
        byte[] pack = new byte[8 * 1024 * 1024 + 4321];
        new Random(7).nextBytes(pack);
        storage.putIfAbsent("data/00/big", Payload.of(pack, 0, pack.length));
        int offset = 1000;
        int length = 4 * 1024 * 1024 + 17;
        long grew = directMemoryKeptByANewThread(() -> {
            byte[] range = new byte[length];
            try (var in = storage.get("data/00/big", offset, length)) {
                assertEquals(length, in.readNBytes(range, 0, length));
            }
            byte[] whole = new byte[pack.length];
            try (var in = storage.get("data/00/big")) {
                assertEquals(pack.length, in.readNBytes(whole, 0, whole.length));
            }
            assertTrue(Arrays.equals(pack, offset, offset + length, range, 0, length), "the range read differs from the object's bytes");
            assertTrue(Arrays.equals(pack, whole), "the object read differs from the payload");
        });
        assertTrue(grew <= 1024 * 1024, "direct memory kept after reading 4 MiB and 8 MiB: " + grew + " bytes");
    }

    /** Work that may throw, for {@link #directMemoryKeptByANewThread}. */
    private interface Work {
        void run() throws Exception;
    }

    /**
     * Runs {@code work} on a thread of its own, as an uploading or fetching thread: its cache of temporary
     * direct buffers starts empty and outlives the work. Returns how much the JVM's direct memory grew.
     */
    private static long directMemoryKeptByANewThread(Work work) throws InterruptedException {
        BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();
        AtomicLong grew = new AtomicLong();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                long before = direct.getMemoryUsed();
                work.run();
                grew.set(direct.getMemoryUsed() - before);
            } catch (Throwable e) {
                failed.set(e);
            }
        });
        t.start();
        t.join();
        if (failed.get() != null) {
            throw new AssertionError(failed.get());
        }
        return grew.get();
    }
}
