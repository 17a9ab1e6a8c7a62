package io.backupkit.internal;

import io.backupkit.BackupException;
import io.backupkit.EngineException;
import io.backupkit.spi.RunningCommand;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * The parallel streams of one engine backup or restore: tasks taken from a queue by a fixed number
 * of daemon threads, and everything they started (child processes, database sessions) stopped at
 * the first failure and when the thread waiting for them is interrupted.
 *
 * <p>Stopping means: the queue is cleared, every tracked child process is destroyed and every
 * registered stop action runs (for an in-process COPY: cancel its query, close its socket), so
 * that a worker blocked on that child or session returns. When {@link #execute} ends, by success,
 * failure or interrupt, no worker writes into the database any more: whatever cleans up after it
 * (dropping a partly restored database, say) does not race the workers. On interrupt the wait for
 * the workers is bounded ({@link #STOP_WAIT}); the interrupt flag is set again when
 * {@code execute} throws.
 *
 * <pre>{@code
 * WorkerPool<String> pool = new WorkerPool<>("restore into db", "backupkit-pg-restore", new ConcurrentLinkedQueue<>(streams));
 * pool.execute(4, stream -> {
 *     RunningCommand rc = tools.start(...);
 *     pool.track(rc);
 *     try { ... } finally { pool.untrack(rc); rc.close(); }
 * });
 * }</pre>
 *
 * @param <T> what one task is (a stream name, a task record)
 */
public final class WorkerPool<T> {
    private static final Logger LOG = LoggerFactory.getLogger(WorkerPool.class);
    /** How long an interrupted {@link #execute} waits for its workers to let go of what they stopped. */
    public static final Duration STOP_WAIT = Duration.ofSeconds(30);

    private final String what;
    private final String threadName;
    private final Queue<T> queue;
    private final ConcurrentLinkedQueue<RunningCommand> running = new ConcurrentLinkedQueue<>();
    private final Set<Runnable> stopActions = ConcurrentHashMap.newKeySet();
    private final AtomicReference<RuntimeException> firstFailure = new AtomicReference<>();
    private volatile boolean stopped;

    /**
     * @param what       what the pool does, for messages: "restore into db on host:5432" → "… interrupted", "… failed: …"
     * @param threadName prefix of the worker threads' names
     * @param queue      the tasks, taken in the queue's order (a priority queue orders them)
     */
    public WorkerPool(String what, String threadName, Queue<T> queue) {
        this.what = what;
        this.threadName = threadName;
        this.queue = queue;
    }

    /** Whether the pool was stopped: by a failure, by an interrupt. */
    public boolean stopped() {
        return stopped;
    }

    /** Destroys {@code rc} when the pool stops; destroys it at once if the pool has already stopped. */
    public void track(RunningCommand rc) {
        running.add(rc);
        // stopAll sets stopped before it takes the list: one of the two sees rc
        if (stopped && running.remove(rc)) {
            rc.destroy();
        }
    }

    /** Forgets a finished command (its worker closes it). */
    public void untrack(RunningCommand rc) {
        running.remove(rc);
    }

    /**
     * Runs {@code stop} (once) when the pool stops, at once if it has already stopped; closing the
     * returned registration, when the work it guards is done, forgets it. {@code stop} runs on
     * another thread than the worker's and must make the worker's blocking call return (for JDBC:
     * cancel the query, then close the socket with {@code Connection.abort}).
     */
    public Registration onStop(Runnable stop) {
        stopActions.add(stop);
        if (stopped) {
            runStopAction(stop);
        }
        return () -> stopActions.remove(stop);
    }

    /** Records the root failure (the first one; later ones are usually its consequences) and stops everything. */
    public void fail(RuntimeException e) {
        firstFailure.compareAndSet(null, e);
        stopAll();
    }

    private void stopAll() {
        stopped = true;
        queue.clear();
        RunningCommand rc;
        while ((rc = running.poll()) != null) {
            try {
                rc.destroy();
            } catch (RuntimeException e) {
                LOG.debug("{}: stopping a child process failed: {}", what, e.toString());
            }
        }
        for (Runnable stop : List.copyOf(stopActions)) {
            runStopAction(stop);
        }
    }

    private void runStopAction(Runnable stop) {
        if (stopActions.remove(stop)) {
            try {
                stop.run();
            } catch (RuntimeException e) {
                LOG.debug("{}: stopping a session failed: {}", what, e.toString());
            }
        }
    }

    /**
     * Runs the queue on {@code workers} threads until it is empty or a task fails; returns when every
     * worker has returned. Throws the first failure ({@link BackupException}s as they are, anything
     * else wrapped in an {@link EngineException} "… failed: …"); when the calling thread is
     * interrupted, stops everything, waits at most {@link #STOP_WAIT} for the workers, sets the
     * interrupt flag again and throws an {@link EngineException} "… interrupted".
     */
    public void execute(int workers, Consumer<? super T> work) {
        AtomicInteger seq = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, threadName + "-" + seq.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        List<Future<?>> futures = new ArrayList<>();
        for (int i = 0; i < workers; i++) {
            futures.add(pool.submit(() -> {
                T task;
                while (!stopped && (task = queue.poll()) != null) {
                    try {
                        work.accept(task);
                    } catch (RuntimeException e) {
                        fail(e);
                        throw e;
                    } catch (Error e) {
                        fail(new EngineException(what + " failed: " + e, e));
                        throw e;
                    }
                }
                return null;
            }));
        }
        pool.shutdown();
        try {
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    firstFailure.compareAndSet(null, cause instanceof RuntimeException r ? r : new EngineException(what + " failed: " + cause, cause));
                }
            }
        } catch (InterruptedException e) {
            throw interrupted(pool, e);
        }
        RuntimeException first = firstFailure.get();
        if (first != null) {
            throw first instanceof BackupException ? first : new EngineException(what + " failed: " + first, first);
        }
    }

    private EngineException interrupted(ExecutorService pool, InterruptedException cause) {
        RuntimeException earlier = firstFailure.get();
        EngineException interrupted = new EngineException(what + " interrupted: its running streams were stopped", cause);
        fail(interrupted);
        // wakes workers blocked in an interruptible wait (for a child to exit, say)
        pool.shutdownNow();
        boolean done = false;
        try {
            done = pool.awaitTermination(STOP_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException again) {
            // interrupted twice: stop waiting
        }
        if (!done) {
            interrupted.addSuppressed(new EngineException("some workers of the " + what + " had not returned within "
                    + STOP_WAIT.toSeconds() + " s"));
            LOG.warn("{} interrupted: some workers had not returned within {} s", what, STOP_WAIT.toSeconds());
        }
        if (earlier != null) {
            interrupted.addSuppressed(earlier);
        }
        Thread.currentThread().interrupt();
        return interrupted;
    }

    /** A registered stop action; close it when the work it guards is done. */
    @FunctionalInterface
    public interface Registration extends AutoCloseable {
        @Override
        void close();
    }
}
