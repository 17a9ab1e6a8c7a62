package io.backupkit;

import io.backupkit.spi.Payload;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What LocalStorage promises about power loss and file systems without hard links, observed through
 * its file-operation seam: every directory it creates is fsynced into its parent before an object
 * inside it is acknowledged, and the rename fallback runs only where links are unsupported and never
 * replaces an object.
 */
class LocalStorageDurabilityTest {
    @TempDir
    Path dir;

    /** Records fsynced directories, and whether each child directory existed when its parent was synced. */
    private static final class Recording implements LocalStorage.FileOps {
        final List<Path> synced = Collections.synchronizedList(new ArrayList<>());
        volatile IOException linkFailure;
        final AtomicInteger links = new AtomicInteger();

        @Override
        public void link(Path link, Path existing) throws IOException {
            links.incrementAndGet();
            if (linkFailure != null) {
                throw linkFailure;
            }
            Files.createLink(link, existing);
        }

        @Override
        public void fsyncDirectory(Path d) {
            synced.add(d);
        }
    }

    @Test
    void putIntoNewDirectories_fsyncsEveryCreatedDirectoryIntoItsParent_beforeAcknowledging() throws Exception {
        Path root = dir.resolve("backups/shop");
        Recording ops = new Recording();
        LocalStorage storage = LocalStorage.withFileOps(root, ops);
        assertTrue(storage.putIfAbsent("data/ab/abcdef", Payload.of(new byte[] {1, 2, 3})));

        // the pack's name in data/ab, data/ab in data, data in the root, the root in its parent, and so on:
        // after a power loss the pack cannot vanish while index and manifest written later survive
        for (Path p : List.of(root.resolve("data/ab"), root.resolve("data"), root, dir.resolve("backups"))) {
            assertTrue(ops.synced.contains(p), p + " must be fsynced (synced: " + ops.synced + ")");
        }
        // the directory holding the object is synced after the link, its ancestors before the object is written
        assertEquals(root.resolve("data/ab"), ops.synced.get(ops.synced.size() - 1));

        // a second object in a known directory syncs only that directory: no cost per write beyond the first
        ops.synced.clear();
        assertTrue(storage.putIfAbsent("data/ab/abcdee", Payload.of(new byte[] {4})));
        assertEquals(List.of(root.resolve("data/ab")), ops.synced);
    }

    @Test
    void directoryLeftUnsyncedByACrashedWriter_isSyncedByTheNextProcess() throws Exception {
        Path root = dir.resolve("repo");
        Files.createDirectories(root.resolve("index"));
        Recording ops = new Recording();
        LocalStorage.withFileOps(root, ops).putIfAbsent("index/0011", Payload.of(new byte[] {1}));
        assertTrue(ops.synced.contains(root), "index/ may have been created by a process killed before its fsync: " + ops.synced);
    }

    @Test
    void linkFailingForAnotherReason_failsThePut_insteadOfRenamingOverTheName() throws Exception {
        Path root = dir.resolve("repo");
        Recording ops = new Recording();
        LocalStorage storage = LocalStorage.withFileOps(root, ops);
        ops.linkFailure = new FileSystemException(root.resolve("config").toString(), null, "No space left on device");
        StorageException e = assertThrows(StorageException.class, () -> storage.putIfAbsent("config", Payload.of(new byte[] {7})));
        assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
        assertFalse(Files.exists(root.resolve("config")), "nothing may appear when the link failed for a real error");
        try (var files = Files.list(root)) {
            assertEquals(List.of(), files.filter(p -> !p.getFileName().toString().equals(".tmp-rename-lock")).toList(),
                    "no temporary file is left behind");
        }
    }

    @Test
    void withoutHardLinks_concurrentWritersOfOneName_exactlyOneWins_andItsContentStays() throws Exception {
        Path root = dir.resolve("repo");
        Recording ops = new Recording();
        // what Linux says for link(2) on vfat/exFAT
        ops.linkFailure = new FileSystemException("x", null, "Operation not permitted");
        LocalStorage storage = LocalStorage.withFileOps(root, ops);
        int names = 40;
        int writers = 6;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            Map<String, List<Integer>> winners = new ConcurrentHashMap<>();
            for (int n = 0; n < names; n++) {
                String name = "locks/" + n;
                CountDownLatch go = new CountDownLatch(1);
                List<Future<?>> fs = new ArrayList<>();
                for (int w = 0; w < writers; w++) {
                    int writer = w;
                    fs.add(pool.submit(() -> {
                        go.await();
                        if (storage.putIfAbsent(name, Payload.of(("writer " + writer).getBytes(StandardCharsets.US_ASCII)))) {
                            winners.computeIfAbsent(name, k -> Collections.synchronizedList(new ArrayList<>())).add(writer);
                        }
                        return null;
                    }));
                }
                go.countDown();
                for (Future<?> f : fs) {
                    f.get(60, TimeUnit.SECONDS);
                }
                List<Integer> won = winners.get(name);
                assertEquals(1, won == null ? 0 : won.size(), name + ": exactly one writer may succeed, winners " + won);
                assertArrayEquals(("writer " + won.get(0)).getBytes(StandardCharsets.US_ASCII), storage.readAll(name),
                        name + " must hold the winner's content, not a later writer's");
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(names, storage.list("locks/").size(), "the lock file of the fallback is not listed");
    }
}
