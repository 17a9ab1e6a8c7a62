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
        BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();
        AtomicLong grew = new AtomicLong();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        // a thread of its own: its cache of temporary buffers starts empty and outlives the write, as an uploader's does
        Thread t = new Thread(() -> {
            try {
                long before = direct.getMemoryUsed();
                storage.putIfAbsent("data/00/big", Payload.of(pack, 0, pack.length));
                grew.set(direct.getMemoryUsed() - before);
                try (var in = storage.get("data/00/big")) {
                    assertTrue(Arrays.equals(pack, in.readAllBytes()), "the stored object differs from the payload");
                }
            } catch (Throwable e) {
                failed.set(e);
            }
        });
        t.start();
        t.join();
        if (failed.get() != null) {
            throw new AssertionError(failed.get());
        }
        assertTrue(grew.get() <= 1024 * 1024, "direct memory kept after writing 16 MiB: " + grew.get() + " bytes");
    }
}
