package io.backupkit.internal;

import io.backupkit.EngineException;
import io.backupkit.IntegrityException;
import io.backupkit.LocalCommandExecutor;
import io.backupkit.spi.CommandSpec;
import io.backupkit.spi.RunningCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
                        default -> throw new AssertionError("started after the interrupt: " + task);
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
}
