package io.backupkit.core;

import io.backupkit.LocalStorage;
import io.backupkit.Repository;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Child JVM of {@link KeySlotRemovalKillIT}: removes one key slot with hooks around the slot's delete, so
 * the test can act while it is about to delete and kill it with SIGKILL right before or after.
 * Arguments: repository directory, slot id, signal directory. Files in the signal directory:
 * it writes {@code before-delete}, waits for {@code go}, deletes, writes {@code deleted}, then waits
 * to be killed.
 */
public final class KeySlotRemoverMain {
    private KeySlotRemoverMain() {
    }

    public static void main(String[] args) throws Exception {
        Path repoDir = Path.of(args[0]);
        String slot = args[1];
        Path signals = Path.of(args[2]);
        HookedStorage storage = new HookedStorage(LocalStorage.of(repoDir));
        storage.beforeDelete = name -> {
            if (name.startsWith("keys/")) {
                touch(signals.resolve("before-delete"));
                waitFor(signals.resolve("go"));
            }
        };
        storage.afterDelete = name -> {
            if (name.startsWith("keys/")) {
                touch(signals.resolve("deleted"));
                waitFor(signals.resolve("never"));
            }
        };
        try (Repository repo = Repos.encrypted(storage).open()) {
            repo.keys().remove(slot);
            System.out.println("REMOVED");
        }
    }

    private static void touch(Path p) {
        try {
            Files.writeString(p, Long.toString(ProcessHandle.current().pid()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void waitFor(Path p) {
        long end = System.nanoTime() + 10L * 60 * 1_000_000_000;
        while (!Files.exists(p) && System.nanoTime() < end) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
