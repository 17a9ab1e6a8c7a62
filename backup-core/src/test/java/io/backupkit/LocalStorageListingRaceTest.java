package io.backupkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.backupkit.spi.ObjectInfo;
import io.backupkit.spi.Payload;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A listing runs while other processes create, rename and delete objects in the same directory (lock
 * refreshes, job records, temporary files becoming objects): an entry that disappears between reading
 * the directory and reading its attributes is skipped, never a failed listing. The race on main failed a
 * backup in PruneRaceIT ("cannot list locks/ … NoSuchFileException …/locks/.tmp-…").
 */
class LocalStorageListingRaceTest {
    @TempDir
    Path dir;

    @Test
    void listing_whileObjectsAppearAndVanish_neverFails_andSeesTheStableOnes() throws Exception {
        LocalStorage storage = LocalStorage.of(dir.resolve("repo"));
        for (int i = 0; i < 20; i++) {
            storage.putIfAbsent("locks/stable-" + i, Payload.of("x".getBytes(StandardCharsets.UTF_8)));
        }
        Path locks = dir.resolve("repo/locks");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> churnFailure = new AtomicReference<>();
        Thread churn = new Thread(() -> {
            try {
                for (long n = 0; !stop.get(); n++) {
                    // what a writer does: a temporary file, renamed or deleted, and objects deleted again
                    Path tmp = Files.writeString(locks.resolve(".tmp-" + n), "t");
                    Files.delete(tmp);
                    Path obj = Files.writeString(locks.resolve("churn-" + n), "o");
                    Files.delete(obj);
                }
            } catch (Throwable t) {
                churnFailure.set(t);
            }
        }, "churn");
        churn.start();
        try {
            long deadline = System.nanoTime() + 3_000_000_000L;
            int listings = 0;
            while (System.nanoTime() < deadline) {
                List<ObjectInfo> seen = storage.list("locks/");
                assertEquals(20, seen.stream().filter(o -> o.name().startsWith("locks/stable-")).count(), seen.toString());
                assertTrue(seen.stream().noneMatch(o -> o.name().contains(".tmp-")), seen.toString());
                listings++;
            }
            assertTrue(listings > 10, "listings: " + listings);
        } finally {
            stop.set(true);
            churn.join();
        }
        assertEquals(null, churnFailure.get());
    }
}
