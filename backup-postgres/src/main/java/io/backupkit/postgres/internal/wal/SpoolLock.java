package io.backupkit.postgres.internal.wal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * The exclusive lock file one background worker (WAL pusher, WAL prefetcher) holds in its spool, so a
 * second process started on the same spool sees it and leaves. An OS file lock, so a worker killed with
 * SIGKILL releases it with its process; a holder inside this JVM counts as holding it too.
 */
public final class SpoolLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private SpoolLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** Takes {@code lockFile} (creating it and its directory), or empty when another holder has it. */
    public static Optional<SpoolLock> tryAcquire(Path lockFile) {
        try {
            Files.createDirectories(lockFile.getParent());
            FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock l;
            try {
                l = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                l = null; // held by another thread of this JVM
            }
            if (l == null) {
                ch.close();
                return Optional.empty();
            }
            return Optional.of(new SpoolLock(ch, l));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot use spool " + lockFile.getParent(), e);
        }
    }

    /** Whether some process (or this JVM) holds {@code lockFile} right now. */
    public static boolean isHeld(Path lockFile) {
        if (!Files.exists(lockFile)) {
            return false;
        }
        try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.WRITE)) {
            FileLock l = ch.tryLock();
            if (l == null) {
                return true;
            }
            l.release();
            return false;
        } catch (OverlappingFileLockException e) {
            return true; // held inside this JVM
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException ignored) {
            // released with the process anyway
        }
    }
}
