package io.backupkit.internal;

import io.backupkit.BackupException;
import io.backupkit.EngineException;
import io.backupkit.spi.RunningCommand;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.SQLException;
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
 * that a worker blocked on that child or session returns. The destroys and stop actions run side
 * by side, each on a daemon thread of its own that nobody interrupts (so a child gets SIGTERM,
 * and SIGKILL only if it has not exited 5 s later); each stop action runs at most once, and a
 * child tracked or an action registered after the stop is stopped at once.
 *
 * <p>When {@link #execute} returns or throws after a success or a failure, every worker has
 * returned. When the waiting thread is interrupted, the wait is bounded: one deadline,
 * {@link #STOP_WAIT}, for the stopping and for the workers it frees; the interrupt flag is set
 * again when {@code execute} throws. Only if {@link #settled()} is true after that is it sure that
 * no worker writes any more: if the deadline passed (a session that ignores its cancel, say) or the
 * thread was interrupted a second time, the exception says so and a worker may still be running,
 * so whatever cleans up after it (dropping a partly restored database, say) must check
 * {@code settled()} first.
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
    private final AtomicReference<Error> firstError = new AtomicReference<>();
    /** The threads running the destroys and stop actions of the stop. */
    private final Queue<Thread> stoppers = new ConcurrentLinkedQueue<>();
    private final AtomicInteger stopperSeq = new AtomicInteger();
    private boolean stopStarted;
    private long stopStartNanos;
    private final Duration stopWait;
    private volatile boolean stopped;
    private volatile boolean settled;

    /**
     * @param what       what the pool does, for messages: "restore into db on host:5432" → "… interrupted", "… failed: …"
     * @param threadName prefix of the worker threads' names
     * @param queue      the tasks, taken in the queue's order (a priority queue orders them)
     */
    public WorkerPool(String what, String threadName, Queue<T> queue) {
        this(what, threadName, queue, STOP_WAIT);
    }

    /** With another bound than {@link #STOP_WAIT} (tests). */
    WorkerPool(String what, String threadName, Queue<T> queue, Duration stopWait) {
        this.what = what;
        this.threadName = threadName;
        this.queue = queue;
        this.stopWait = stopWait;
    }

    /**
     * Whether every worker and every stop action has ended: true once {@link #execute} returned or
     * threw, except after an interrupt whose bounded wait ended first (then a worker may still run).
     */
    public boolean settled() {
        return settled;
    }

    /** Whether the pool was stopped: by a failure, by an interrupt. */
    public boolean stopped() {
        return stopped;
    }

    /**
     * Destroys {@code rc} when the pool stops; destroys it at once if the pool has already stopped
     * (gracefully even on a worker that was interrupted: the flag is cleared for the destroy).
     */
    public void track(RunningCommand rc) {
        running.add(rc);
        // stopAll sets stopped before it takes the list: one of the two sees rc
        if (stopped && running.remove(rc)) {
            // a worker interrupted by the stop would make destroy skip SIGTERM and kill at once
            Interrupts.uninterrupted(() -> destroy(rc));
        }
    }

    /** Forgets a finished command (its worker closes it): untrack before closing. */
    public void untrack(RunningCommand rc) {
        running.remove(rc);
    }

    /**
     * Runs {@code stop} (once) when the pool stops, at once (on the calling thread) if it has already
     * stopped; closing the returned registration, when the work it guards is done, forgets it.
     * {@code stop} runs on another thread than the worker's and must make the worker's blocking call
     * return (a JDBC session: {@link #onStopSession}).
     */
    public Registration onStop(Runnable stop) {
        stopActions.add(stop);
        if (stopped) {
            runStopAction(stop);
        }
        return () -> stopActions.remove(stop);
    }

    /** The driver's way to cancel what a session is running (pgjdbc: {@code cancelQuery}; MariaDB: {@code KILL QUERY}). */
    @FunctionalInterface
    public interface Cancel {
        void cancel(Connection session) throws SQLException;
    }

    /**
     * {@link #onStop} for a JDBC session a worker is blocked in: the stop cancels its statement, then
     * aborts the session (closes its socket). Both are needed: a server waiting on a lock or a function
     * does not notice a closed socket, and a cancel alone leaves a worker blocked in a read.
     */
    public Registration onStopSession(Connection session, Cancel cancel) {
        return onStop(() -> {
            try {
                cancel.cancel(session);
            } catch (SQLException | RuntimeException e) {
                LOG.debug("{}: cancelling a session's statement failed: {}", what, e.toString());
            }
            try {
                session.abort(Runnable::run);
            } catch (SQLException | RuntimeException e) {
                LOG.debug("{}: aborting a session failed: {}", what, e.toString());
            }
        });
    }

    /** Records the root failure (the first one; later ones are usually its consequences) and stops everything. */
    public void fail(RuntimeException e) {
        firstFailure.compareAndSet(null, e);
        stopAll();
    }

    /**
     * Stops everything without waiting: each child's destroy and each stop action runs on a thread of
     * its own, all at once (a destroy waits up to 5 s for its child to exit, a JDBC cancel opens a
     * connection: one after another they could take minutes), and on threads nobody interrupts (so a
     * destroy sends SIGTERM first). {@link #execute} waits for them within its bound.
     */
    private void stopAll() {
        synchronized (stoppers) {
            if (!stopStarted) {
                stopStarted = true;
                stopStartNanos = System.nanoTime();
            }
        }
        stopped = true;
        queue.clear();
        RunningCommand rc;
        while ((rc = running.poll()) != null) {
            RunningCommand child = rc;
            stopper(() -> destroy(child));
        }
        for (Runnable stop : List.copyOf(stopActions)) {
            // claimed here, so a registration closed meanwhile or a second stopAll does not run it again
            if (stopActions.remove(stop)) {
                stopper(() -> runClaimed(stop));
            }
        }
    }

    private void stopper(Runnable r) {
        Thread t = new Thread(r, threadName + "-stop-" + stopperSeq.incrementAndGet());
        t.setDaemon(true);
        stoppers.add(t);
        t.start();
    }

    private void destroy(RunningCommand rc) {
        try {
            rc.destroy();
        } catch (RuntimeException e) {
            LOG.debug("{}: stopping a child process failed: {}", what, e.toString());
        }
    }

    private void runStopAction(Runnable stop) {
        if (stopActions.remove(stop)) {
            runClaimed(stop);
        }
    }

    private void runClaimed(Runnable stop) {
        try {
            stop.run();
        } catch (RuntimeException e) {
            LOG.debug("{}: stopping a session failed: {}", what, e.toString());
        }
    }

    /**
     * Waits until every stopper thread has ended or {@code deadlineNanos} passes; returns whether they all ended.
     *
     * @throws InterruptedException when the waiting thread is interrupted
     */
    private boolean awaitStoppers(long deadlineNanos) throws InterruptedException {
        for (Thread t : stoppers) {
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) {
                return !t.isAlive() && stoppers.stream().noneMatch(Thread::isAlive);
            }
            TimeUnit.NANOSECONDS.timedJoin(t, left);
        }
        return stoppers.stream().noneMatch(Thread::isAlive);
    }

    /**
     * Throws now, as {@link #execute} would, if the pool has stopped before it ran (a child started ahead
     * of its turn failed while the caller was still preparing): the caller need not finish its
     * preparation first. Does nothing otherwise.
     */
    public void throwIfStopped() {
        if (stopped) {
            // no task is taken from a stopped pool: this waits for the stop within its bound and throws its failure
            execute(1, task -> { });
            throw new EngineException(what + " stopped");
        }
    }

    /**
     * Runs the queue on {@code workers} threads until it is empty or a task fails; returns when every
     * worker has returned. Throws the first failure ({@link BackupException}s as they are, other
     * runtime exceptions wrapped in an {@link EngineException} "… failed: …", an {@link Error} of a
     * worker unchanged, after everything was stopped); when the calling thread is interrupted, stops
     * everything, waits at most {@link #STOP_WAIT} (one deadline for the workers and the stopping
     * itself), sets the interrupt flag again and throws an {@link EngineException} "… interrupted".
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
                        firstError.compareAndSet(null, e);
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
                    if (cause instanceof Error err) {
                        firstError.compareAndSet(null, err);
                    } else {
                        firstFailure.compareAndSet(null, cause instanceof RuntimeException r ? r : new EngineException(what + " failed: " + cause, cause));
                    }
                }
            }
            if (stopped && !awaitStoppers(stopDeadline())) {
                LOG.warn("{}: stopping its child processes and sessions had not ended within {} s", what, stopWait.toSeconds());
            } else {
                settled = true;
            }
        } catch (InterruptedException e) {
            RuntimeException interrupted = interrupted(pool, e);
            Error err = firstError.get();
            if (err != null) {
                throw err;
            }
            throw interrupted;
        }
        Error err = firstError.get();
        if (err != null) {
            throw err;
        }
        RuntimeException first = firstFailure.get();
        if (first != null) {
            throw first instanceof BackupException ? first : new EngineException(what + " failed: " + first, first);
        }
    }

    private long stopDeadline() {
        synchronized (stoppers) {
            return stopStartNanos + stopWait.toNanos();
        }
    }

    private EngineException interrupted(ExecutorService pool, InterruptedException cause) {
        RuntimeException earlier = firstFailure.get();
        EngineException interrupted = new EngineException(what + " interrupted: its running streams were stopped", cause);
        fail(interrupted);
        // one deadline for everything: the stoppers and the workers they free
        long deadline = stopDeadline();
        // wakes workers blocked in an interruptible wait (for a child to exit, say)
        pool.shutdownNow();
        String notDone = null;
        try {
            boolean workersDone = pool.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            boolean stoppersDone = awaitStoppers(deadline);
            if (!workersDone || !stoppersDone) {
                notDone = (workersDone ? "stopping its child processes and sessions" : "some workers")
                        + " had not ended within " + stopWait.toSeconds() + " s";
            }
        } catch (InterruptedException again) {
            notDone = "interrupted again, it stopped waiting for its workers: some may still run";
        }
        if (notDone != null) {
            interrupted.addSuppressed(new EngineException(what + ": " + notDone));
            LOG.warn("{} interrupted: {}", what, notDone);
        } else {
            settled = true;
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
