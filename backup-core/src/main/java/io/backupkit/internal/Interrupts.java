package io.backupkit.internal;

/**
 * Cleanup that must run even on an interrupted thread. An engine call that was interrupted returns
 * with the thread's interrupt flag set; the storage calls that follow it (indexing the packs already
 * stored, deleting the lock) fail on such a thread: a {@code FileChannel} closes itself
 * ({@code ClosedByInterruptException}), the AWS SDK aborts the request. These helpers clear the flag
 * for the cleanup and set it again afterwards, so the caller still sees the interrupt.
 */
public final class Interrupts {
    private Interrupts() {
    }

    /** Runs {@code cleanup} with the interrupt flag cleared; sets the flag again afterwards if it was set. */
    public static void uninterrupted(Runnable cleanup) {
        boolean interrupted = Thread.interrupted();
        try {
            cleanup.run();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
