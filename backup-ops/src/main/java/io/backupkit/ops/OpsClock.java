package io.backupkit.ops;

import java.time.Instant;

/**
 * The scheduler's notion of time: what time it is, and waiting until a given time. The system
 * clock in production; a {@link ManualClock} in tests, so that a test can cross a daylight-saving
 * change or a week of ticks in milliseconds.
 */
public interface OpsClock {

    Instant instant();

    /**
     * Blocks until {@link #instant()} has reached {@code deadline}.
     *
     * @throws InterruptedException when the thread is interrupted (the scheduler stops)
     */
    void sleepUntil(Instant deadline) throws InterruptedException;

    /** The system clock (UTC instants; waits with {@link Thread#sleep}). */
    static OpsClock system() {
        return SystemClock.INSTANCE;
    }

    /** The system clock. */
    final class SystemClock implements OpsClock {
        static final SystemClock INSTANCE = new SystemClock();

        private SystemClock() {
        }

        @Override
        public Instant instant() {
            return Instant.now();
        }

        @Override
        public void sleepUntil(Instant deadline) throws InterruptedException {
            while (true) {
                long millis = deadline.toEpochMilli() - System.currentTimeMillis();
                if (millis <= 0) {
                    return;
                }
                // wake at least every minute: a wall clock set forward (NTP step, VM resume) is noticed
                Thread.sleep(Math.min(millis, 60_000));
            }
        }
    }
}
