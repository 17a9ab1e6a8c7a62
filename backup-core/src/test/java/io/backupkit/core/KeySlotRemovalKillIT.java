package io.backupkit.core;

import io.backupkit.ConfigurationException;
import io.backupkit.KeySlotInfo;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Key slot removal with the remover killed by SIGKILL (a child JVM, {@link KeySlotRemoverMain}): a
 * removal running beside it cannot take the last slot, and what the killed one leaves behind blocks
 * nothing for good.
 */
class KeySlotRemovalKillIT {
    static final char[] SECOND = "second password".toCharArray();
    @TempDir
    Path dir;

    /** Slots: the one {@link Repos#PASSWORD} opens (returned) and one {@link #SECOND} opens. */
    private String twoSlots(Path repoDir) {
        try (Repository repo = Repos.encrypted(LocalStorage.of(repoDir)).create()) {
            repo.keys().add(Repos.password(SECOND));
            return repo.keys().list().stream().filter(KeySlotInfo::current).findFirst().orElseThrow().id();
        }
    }

    private static Repository openWithSecond(Path repoDir) {
        return Repository.builder().storage(LocalStorage.of(repoDir)).keyProvider(Repos.password(SECOND)).open();
    }

    private Process remover(Path repoDir, String slot, Path signals) throws IOException {
        Files.createDirectories(signals);
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        return new ProcessBuilder(java.toString(), "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                KeySlotRemoverMain.class.getName(), repoDir.toString(), slot, signals.toString())
                .redirectErrorStream(true).redirectOutput(signals.resolve("output").toFile()).start();
    }

    private static void await(Path file, Process p) throws Exception {
        long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
        while (!Files.exists(file)) {
            if (!p.isAlive()) {
                fail("the remover ended before " + file.getFileName() + ": " + Files.readString(file.resolveSibling("output")));
            }
            if (System.nanoTime() > end) {
                fail("the remover did not reach " + file.getFileName() + " in 3 minutes");
            }
            Thread.sleep(20);
        }
    }

    private static void kill9(Process p) throws Exception {
        p.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no finally block runs
        assertTrue(p.waitFor(1, TimeUnit.MINUTES));
        assertEquals(137, p.exitValue(), "killed by SIGKILL");
    }

    private static long announcements(Path repoDir) throws IOException {
        Path d = repoDir.resolve("keys-removal");
        if (!Files.isDirectory(d)) {
            return 0;
        }
        try (var s = Files.list(d)) {
            return s.filter(f -> !f.getFileName().toString().startsWith(".tmp-")).count();
        }
    }

    /**
     * A removes slot a and is about to delete it; B removes slot b meanwhile; then A deletes and is
     * killed before it could look again or put anything back. With "delete, then count again" B
     * succeeded (a was still there when it counted) and the repository was left with no slot at all.
     */
    @Test
    void removalBesideOneThatIsKilledAfterItsDelete_cannotTakeTheLastSlot() throws Exception {
        Path repoDir = dir.resolve("repo");
        String a = twoSlots(repoDir);
        String b;
        try (Repository repo = openWithSecond(repoDir)) {
            b = repo.keys().list().stream().filter(KeySlotInfo::current).findFirst().orElseThrow().id();
        }
        Path signals = dir.resolve("signals");
        Process child = remover(repoDir, a, signals);
        try {
            await(signals.resolve("before-delete"), child);
            try (Repository repo = openWithSecond(repoDir)) {
                ConfigurationException e = assertThrows(ConfigurationException.class, () -> repo.keys().remove(b),
                        "slot a is being removed: b is the last slot that will be left");
                assertTrue(e.getMessage().contains("last one") && e.getMessage().contains("pid " + child.pid()), e.getMessage());
            }
            Files.writeString(signals.resolve("go"), "");
            await(signals.resolve("deleted"), child);
        } finally {
            kill9(child);
        }
        assertEquals(1, announcements(repoDir), "the killed remover left its announcement");
        try (Repository repo = openWithSecond(repoDir)) {
            assertEquals(List.of(b), repo.keys().list().stream().map(KeySlotInfo::id).toList());
            // the leftover blocks nothing: b is refused only because it is the last one
            ConfigurationException last = assertThrows(ConfigurationException.class, () -> repo.keys().remove(b));
            assertTrue(last.getMessage().contains("last one"), last.getMessage());
            repo.keys().add(Repos.password(Repos.PASSWORD));
            repo.keys().remove(b);
        }
        try (Repository repo = Repos.encrypted(LocalStorage.of(repoDir)).open()) {
            assertEquals(1, repo.keys().list().size());
        }
    }

    /** Killed after announcing, before deleting: its slot is still there, and once its process is known gone it counts again. */
    @Test
    void removerKilledBeforeItsDelete_leavesAnAnnouncementThatStopsCountingOnceItsProcessIsGone() throws Exception {
        Path repoDir = dir.resolve("repo");
        String a = twoSlots(repoDir);
        Path signals = dir.resolve("signals");
        Process child = remover(repoDir, a, signals);
        try {
            await(signals.resolve("before-delete"), child);
        } finally {
            kill9(child);
        }
        assertEquals(1, announcements(repoDir));
        try (Repository repo = openWithSecond(repoDir)) {
            String b = repo.keys().list().stream().filter(KeySlotInfo::current).findFirst().orElseThrow().id();
            // refused only while the announcement is younger than the grace a dead remote delete gets; poll, never sleep-and-hope
            long end = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            while (true) {
                try {
                    repo.keys().remove(b);
                    break;
                } catch (ConfigurationException e) {
                    assertTrue(e.getMessage().contains("pid " + child.pid()), e.getMessage());
                    if (System.nanoTime() > end) {
                        throw new AssertionError("the dead remover's announcement still blocks after 2 minutes", e);
                    }
                    Thread.sleep(500);
                }
            }
            assertEquals(List.of(a), repo.keys().list().stream().map(KeySlotInfo::id).toList());
        }
        assertEquals(0, announcements(repoDir), "the leftover was cleaned up");
        try (Repository repo = Repos.encrypted(LocalStorage.of(repoDir)).open()) {
            assertThrows(ConfigurationException.class, () -> repo.keys().remove(a), "a is the last slot now");
        }
    }
}
