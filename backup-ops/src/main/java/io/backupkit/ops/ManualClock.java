package io.backupkit.ops;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A clock that moves only when told: for tests of schedules. Threads waiting in
 * {@link #sleepUntil} wake when {@link #advanceTo} reaches their deadline; {@link #awaitSleepers}
 * lets a test wait (in real time) until the scheduler's threads are all waiting again, so tests
 * never sleep and hope.
 *
 * <pre>{@code
 * ManualClock clock = new ManualClock(Instant.parse("2026-03-28T00:00:00Z"));
 * BackupScheduler s = BackupScheduler.builder().clock(clock)...build();
 * s.start();
 * clock.awaitSleepers(s.threadCount(), Duration.ofSeconds(30));
 * clock.advanceTo(clock.nextWakeup().orElseThrow());      // the next tick fires
 * }</pre>
 */
public final class ManualClock implements OpsClock {
    private Instant now;
    private final List<Instant> sleeping = new ArrayList<>();

    public ManualClock(Instant start) {
        this.now = start;
    }

    @Override
    public synchronized Instant instant() {
        return now;
    }

    @Override
    public void sleepUntil(Instant deadline) throws InterruptedException {
        synchronized (this) {
            sleeping.add(deadline);
            notifyAll();
            try {
                while (now.isBefore(deadline)) {
                    wait();
                }
            } finally {
                sleeping.remove(deadline);
                notifyAll();
            }
        }
    }

    /** Moves the clock forward (never back) and wakes every thread whose deadline has come. */
    public synchronized void advanceTo(Instant t) {
        if (t.isAfter(now)) {
            now = t;
        }
        notifyAll();
    }

    public void advance(Duration d) {
        synchronized (this) {
            advanceTo(now.plus(d));
        }
    }

    /** The earliest deadline a thread is waiting for. */
    public synchronized Optional<Instant> nextWakeup() {
        return sleeping.stream().min(Instant::compareTo);
    }

    /** How many threads wait in {@link #sleepUntil} with a deadline still ahead. */
    public synchronized int sleepers() {
        return (int) sleeping.stream().filter(d -> d.isAfter(now)).count();
    }

    /**
     * Waits (in real time, at most {@code timeout}) until at least {@code n} threads wait for a
     * deadline that has not come yet.
     *
     * @throws IllegalStateException on timeout
     */
    public synchronized void awaitSleepers(int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (sleepers() < n) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new IllegalStateException("waited " + timeout + " for " + n + " sleeping threads, have " + sleepers()
                        + " (clock at " + now + ", deadlines " + sleeping + ")");
            }
            wait(Math.max(1, left / 1_000_000));
        }
    }
}
