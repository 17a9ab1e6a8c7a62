package io.backupkit.internal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/** Work started aside on a daemon thread of its own, and its result or failure as it was thrown. */
public final class Futures {
    private Futures() {
    }

    /** Runs {@code work} on a new daemon thread named {@code threadName} (a request or a process, not CPU work: no pool to size). */
    public static <T> CompletableFuture<T> onDaemonThread(String threadName, Supplier<T> work) {
        return CompletableFuture.supplyAsync(work, task -> {
            Thread t = new Thread(task, threadName);
            t.setDaemon(true);
            t.start();
        });
    }

    /** Waits for {@code f} to end; returns its failure as it was thrown (not wrapped), or null when it succeeded. */
    public static Throwable failure(CompletableFuture<?> f) {
        Throwable failure = f.handle((result, thrown) -> thrown).join();
        return failure instanceof CompletionException c && c.getCause() != null ? c.getCause() : failure;
    }

    /** The result of {@code f}, waiting for it; its failure rethrown unchanged (a runtime exception or an error), not wrapped. */
    public static <T> T join(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }
}
