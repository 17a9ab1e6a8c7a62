package io.backupkit.internal;

import io.backupkit.EngineException;
import io.backupkit.IntegrityException;
import io.backupkit.LocalCommandExecutor;
import io.backupkit.spi.CommandSpec;
import io.backupkit.spi.RunningCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pool's stop guarantees, with real child processes ({@code sleep}) standing for pg_restore. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class WorkerPoolTest {
    private static RunningCommand sleeper() {
        return new LocalCommandExecutor().start(CommandSpec.builder("sleep").arg("600").build());
    }

    @Test
    void aFailureBeforeTheRun_isThrownByThrowIfStopped_andNoTaskRuns() {
        List<String> done = new CopyOnWriteArrayList<>();
        WorkerPool<String> fresh = new WorkerPool<>("test", "t", new ConcurrentLinkedQueue<>(List.of("a")));
        fresh.throwIfStopped();
        fresh.execute(1, done::add);
        assertEquals(List.of("a"), done);

        WorkerPool<String> failed = new WorkerPool<>("backup of db", "t", new ConcurrentLinkedQueue<>(List.of("b")));
        EngineException early = new EngineException("pg_dump of pre-data failed with exit code 1");
        failed.fail(early);
        assertSame(early, assertThrows(EngineException.class, failed::throwIfStopped));
        assertEquals(List.of("a"), done, "no task of a stopped pool runs");
    }

    @Test
    void execute_runsEveryTask() {
        Set<String> done = ConcurrentHashMap.newKeySet();
        new WorkerPool<>("test", "t", new ConcurrentLinkedQueue<>(List.of("a", "b", "c", "d"))).execute(3, done::add);
        assertEquals(Set.of("a", "b", "c", "d"), done);
    }

    @Test
    void execute_whenOneTaskFails_destroysTheChildOfAnotherAndThrowsTheFirstFailure() {
        CountDownLatch childStarted = new CountDownLatch(1);
        AtomicReference<RunningCommand> child = new AtomicReference<>();
        IntegrityException boom = new IntegrityException("stream x", "boom");
        Set<String> ran = ConcurrentHashMap.newKeySet();
        WorkerPool<String> pool = new WorkerPool<>("test", "t", new ConcurrentLinkedQueue<>(List.of("long", "failing", "never")));
        IntegrityException thrown = assertThrows(IntegrityException.class, () -> pool.execute(2, task -> {
            ran.add(task);
            switch (task) {
                case "long" -> {
                    RunningCommand rc = sleeper();
                    child.set(rc);
                    pool.track(rc);
                    childStarted.countDown();
                    try {
                        rc.waitFor();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } finally {
                        pool.untrack(rc);
                        rc.close();
                    }
                    throw new EngineException("long: its child was stopped");
                }
                case "failing" -> {
                    try {
                        childStarted.await();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                    throw boom;
                }
                default -> {
                }
            }
        }));
        // the first failure, not the consequence in the other worker
        assertSame(boom, thrown);
        assertFalse(child.get().isAlive(), "the other task's child was destroyed");
        assertFalse(ran.contains("never"), "nothing starts after a failure");
    }

    @Test
    void execute_wrapsAFailureThatIsNoBackupException() {
        IllegalStateException bug = new IllegalStateException("bug");
        EngineException thrown = assertThrows(EngineException.class, () -> new WorkerPool<>("restore into db", "t",
                new ConcurrentLinkedQueue<>(List.of("a"))).execute(1, task -> {
                    throw bug;
                }));
        assertTrue(thrown.getMessage().startsWith("restore into db failed: "), thrown.getMessage());
        assertSame(bug, thrown.getCause());
    }

    @Test
    void execute_whenInterrupted_stopsChildrenAndSessionsWaitsForTheWorkersAndRestoresTheFlag() throws Exception {
        CountDownLatch bothBlocked = new CountDownLatch(2);
        CountDownLatch sessionClosed = new CountDownLatch(1);
        AtomicReference<RunningCommand> child = new AtomicReference<>();
        AtomicBoolean sessionWorkerReturned = new AtomicBoolean();
        AtomicBoolean childWorkerReturned = new AtomicBoolean();
        AtomicReference<Throwable> outcome = new AtomicReference<>();
        AtomicBoolean flagAfter = new AtomicBoolean();
        AtomicBoolean startedAfterTheInterrupt = new AtomicBoolean();
        WorkerPool<String> pool = new WorkerPool<>("restore into db", "t", new ConcurrentLinkedQueue<>(List.of("child", "session", "later")));
        Thread caller = new Thread(() -> {
            try {
                pool.execute(2, task -> {
                    switch (task) {
                        case "child" -> {
                            RunningCommand rc = sleeper();
                            child.set(rc);
                            pool.track(rc);
                            bothBlocked.countDown();
                            try {
                                rc.waitFor();
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            } finally {
                                pool.untrack(rc);
                                rc.close();
                                childWorkerReturned.set(true);
                            }
                        }
                        case "session" -> {
                            // like a JDBC call: deaf to interrupts, returns only when its session is closed from outside
                            try (WorkerPool.Registration r = pool.onStop(sessionClosed::countDown)) {
                                bothBlocked.countDown();
                                boolean interrupted = false;
                                while (true) {
                                    try {
                                        sessionClosed.await();
                                        break;
                                    } catch (InterruptedException e) {
                                        interrupted = true;
                                    }
                                }
                                if (interrupted) {
                                    Thread.currentThread().interrupt();
                                }
                            } finally {
                                sessionWorkerReturned.set(true);
                            }
                        }
                        // thrown after the stop, an exception is no first failure: only this flag tells
                        default -> startedAfterTheInterrupt.set(true);
                    }
                });
            } catch (Throwable t) {
                outcome.set(t);
            } finally {
                flagAfter.set(Thread.currentThread().isInterrupted());
            }
        });
        caller.start();
        assertTrue(bothBlocked.await(60, TimeUnit.SECONDS));
        caller.interrupt();
        caller.join(60_000);
        assertFalse(caller.isAlive(), "execute returned");
        EngineException e = (EngineException) outcome.get();
        assertTrue(e.getMessage().startsWith("restore into db interrupted"), e.getMessage());
        assertTrue(flagAfter.get(), "the interrupt flag is set again");
        assertFalse(child.get().isAlive(), "the child was destroyed");
        assertEquals(0, sessionClosed.getCount(), "the session's stop action ran");
        assertTrue(sessionWorkerReturned.get() && childWorkerReturned.get(), "execute returned only after its workers did");
        assertFalse(startedAfterTheInterrupt.get(), "no task started after the interrupt");
        assertTrue(pool.settled(), "every worker and stop action ended within the bound");
    }

    @Test
    void trackAndOnStop_afterTheStop_stopAtOnce() {
        WorkerPool<String> pool = new WorkerPool<>("test", "t", new ConcurrentLinkedQueue<>());
        pool.fail(new EngineException("first"));
        RunningCommand rc = sleeper();
        try {
            pool.track(rc);
            assertFalse(rc.isAlive(), "a child started by a worker that had not seen the stop yet is destroyed");
            AtomicBoolean ran = new AtomicBoolean();
            pool.onStop(() -> ran.set(true)).close();
            assertTrue(ran.get());
        } finally {
            rc.close();
        }
    }

    @Test
    void aClosedRegistration_isNotRunAtTheStop() {
        WorkerPool<String> pool = new WorkerPool<>("test", "t", new ConcurrentLinkedQueue<>());
        AtomicBoolean closedRan = new AtomicBoolean();
        CountDownLatch openRan = new CountDownLatch(1);
        pool.onStop(() -> closedRan.set(true)).close();
        pool.onStop(openRan::countDown);
        pool.fail(new EngineException("first"));
        assertTrue(await(openRan), "the open registration's action ran");
        assertFalse(closedRan.get(), "the closed registration's action did not run");
    }

    /** Stop actions and destroys run side by side: three that each wait for all three finish only if none waits for another. */
    @Test
    void theStop_runsItsActionsInParallel() throws Exception {
        int n = 3;
        CountDownLatch allRunning = new CountDownLatch(n);
        AtomicInteger sawTheOthers = new AtomicInteger();
        WorkerPool<String> pool = new WorkerPool<>("test", "t", new ConcurrentLinkedQueue<>());
        Runnable action = () -> {
            allRunning.countDown();
            if (await(allRunning)) {
                sawTheOthers.incrementAndGet();
            }
        };
        pool.onStop(action::run);
        pool.onStop(action::run);
        pool.track(new FakeCommand(action));
        long t0 = System.nanoTime();
        pool.fail(new EngineException("first"));
        // the stop does not wait for its actions on the failing thread
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(20), "fail() returned without running the actions itself");
        assertTrue(await(allRunning));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (sawTheOthers.get() < n && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(n, sawTheOthers.get(), "every action ran while the others ran");
    }

    /** The bound covers the stopping itself: a stop action that hangs does not hold the interrupted caller longer. */
    @Test
    void execute_whenInterrupted_waitsForAHangingStopActionNoLongerThanTheBound_andSaysSo() throws Exception {
        CountDownLatch blocked = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        WorkerPool<String> pool = new WorkerPool<>("restore into db", "t", new ConcurrentLinkedQueue<>(List.of("a")), Duration.ofSeconds(2));
        Caller caller = new Caller(() -> pool.execute(1, task -> {
            try (WorkerPool.Registration r = pool.onStop(() -> awaitUninterruptibly(release))) {
                blocked.countDown();
                awaitUninterruptibly(release);
            }
        }));
        try {
            assertTrue(await(blocked));
            caller.interrupt();
            caller.join(60_000);
            assertFalse(caller.isAlive(), "execute returned within its bound although the stop action hangs");
            EngineException e = assertInstanceOf(EngineException.class, caller.outcome.get());
            assertTrue(e.getMessage().startsWith("restore into db interrupted"), e.getMessage());
            assertTrue(List.of(e.getSuppressed()).stream().anyMatch(x -> x.getMessage().contains("some workers had not ended within 2 s")),
                    List.of(e.getSuppressed()).toString());
            assertFalse(pool.settled(), "a worker may still run: cleanup must not race it");
        } finally {
            release.countDown();
        }
    }

    @Test
    void execute_interruptedTwice_stopsWaiting_andSaysSo() throws Exception {
        CountDownLatch blocked = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        WorkerPool<String> pool = new WorkerPool<>("restore into db", "t", new ConcurrentLinkedQueue<>(List.of("a")));
        Caller caller = new Caller(() -> pool.execute(1, task -> {
            blocked.countDown();
            awaitUninterruptibly(release);
        }));
        try {
            assertTrue(await(blocked));
            caller.interrupt();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!pool.stopped() && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            // past the first interrupt: the second one ends the (30 s) wait
            caller.interrupt();
            caller.join(25_000);
            assertFalse(caller.isAlive(), "the second interrupt ended the wait");
            EngineException e = assertInstanceOf(EngineException.class, caller.outcome.get());
            String suppressed = List.of(e.getSuppressed()).toString();
            assertTrue(suppressed.contains("interrupted again"), suppressed);
            assertFalse(suppressed.contains("within"), suppressed);
            assertTrue(caller.flagAfter.get());
        } finally {
            release.countDown();
        }
    }

    @Test
    void execute_rethrowsAWorkersError_unchanged_afterStoppingTheOthers() {
        OutOfMemoryError oom = new OutOfMemoryError("test");
        CountDownLatch sessionOpen = new CountDownLatch(1);
        CountDownLatch sessionStopped = new CountDownLatch(1);
        WorkerPool<String> pool = new WorkerPool<>("test", "t", new ConcurrentLinkedQueue<>(List.of("session", "error")));
        OutOfMemoryError thrown = assertThrows(OutOfMemoryError.class, () -> pool.execute(2, task -> {
            if (task.equals("session")) {
                try (WorkerPool.Registration r = pool.onStop(sessionStopped::countDown)) {
                    sessionOpen.countDown();
                    awaitUninterruptibly(sessionStopped);
                }
            } else {
                awaitUninterruptibly(sessionOpen);
                throw oom;
            }
        }));
        assertSame(oom, thrown);
        assertEquals(0, sessionStopped.getCount(), "the other worker's session was stopped");
    }

    /** track and onStop racing with the stop: every child is destroyed, every action runs exactly once. */
    @Test
    void trackAndOnStop_racingWithTheStop_missNothing_andRunNothingTwice() throws Exception {
        int rounds = Integer.getInteger("workerpool.race.rounds", 300);
        for (int round = 0; round < rounds; round++) {
            WorkerPool<String> pool = new WorkerPool<>("test", "t", new ConcurrentLinkedQueue<>());
            int perThread = 4;
            List<FakeCommand> children = new ArrayList<>();
            List<AtomicInteger> runs = new ArrayList<>();
            for (int i = 0; i < 2 * perThread; i++) {
                children.add(new FakeCommand(() -> { }));
                runs.add(new AtomicInteger());
            }
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                int from = t * perThread;
                threads.add(new Thread(() -> {
                    awaitUninterruptibly(go);
                    for (int i = from; i < from + perThread; i++) {
                        pool.track(children.get(i));
                        AtomicInteger count = runs.get(i);
                        pool.onStop(count::incrementAndGet);
                    }
                }));
            }
            threads.add(new Thread(() -> {
                awaitUninterruptibly(go);
                pool.fail(new EngineException("first"));
            }));
            threads.forEach(Thread::start);
            go.countDown();
            for (Thread t : threads) {
                t.join(60_000);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline && (children.stream().anyMatch(c -> c.destroyed.get() == 0)
                    || runs.stream().anyMatch(r -> r.get() == 0))) {
                Thread.sleep(1);
            }
            for (int i = 0; i < children.size(); i++) {
                assertEquals(1, children.get(i).destroyed.get(), "round " + round + ": child " + i + " destroyed once");
                assertEquals(1, runs.get(i).get(), "round " + round + ": stop action " + i + " ran once");
            }
        }
    }

    /** A child that records its destroy (and runs {@code onDestroy} in it). */
    private static final class FakeCommand implements RunningCommand {
        final AtomicInteger destroyed = new AtomicInteger();
        private final Runnable onDestroy;

        FakeCommand(Runnable onDestroy) {
            this.onDestroy = onDestroy;
        }

        @Override
        public java.io.OutputStream stdin() {
            return java.io.OutputStream.nullOutputStream();
        }

        @Override
        public java.io.InputStream stdout() {
            return java.io.InputStream.nullInputStream();
        }

        @Override
        public java.io.InputStream stderr() {
            return java.io.InputStream.nullInputStream();
        }

        @Override
        public int waitFor() {
            return 0;
        }

        @Override
        public boolean waitFor(Duration timeout) {
            return true;
        }

        @Override
        public boolean isAlive() {
            return destroyed.get() == 0;
        }

        @Override
        public void destroy() {
            destroyed.incrementAndGet();
            onDestroy.run();
        }

        @Override
        public void close() {
        }
    }

    /** Runs {@code work} on its own thread, recording how it ended. */
    private static final class Caller extends Thread {
        final AtomicReference<Throwable> outcome = new AtomicReference<>();
        final AtomicBoolean flagAfter = new AtomicBoolean();
        private final Runnable work;

        Caller(Runnable work) {
            this.work = work;
            setDaemon(true);
            start();
        }

        @Override
        public void run() {
            try {
                work.run();
            } catch (Throwable t) {
                outcome.set(t);
            } finally {
                flagAfter.set(isInterrupted());
            }
        }
    }

    private static boolean await(CountDownLatch latch) {
        try {
            return latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Like a JDBC call: deaf to interrupts. */
    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            try {
                if (latch.await(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
                    break;
                }
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
