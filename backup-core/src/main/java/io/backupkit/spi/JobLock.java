package io.backupkit.spi;

import java.time.Duration;
import java.util.Optional;

/**
 * Mutual exclusion for scheduled jobs across processes and replicas of an embedding service, so
 * two schedulers never run the same job at once. Implementations: a repository-backed lock
 * (backup-ops) and a Kubernetes Lease (backup-k8s).
 *
 * <pre>{@code
 * try (JobLock.Lease lease = jobLock.tryAcquire("nightly-shop", Duration.ofMinutes(2)).orElse(null)) {
 *     if (lease == null) return;            // another replica runs it
 *     ... work; before each write: if (!lease.isHeld()) abort ...
 * }
 * }</pre>
 */
public interface JobLock {

    /**
     * Tries once to take the lock for {@code jobName}; empty when another holder has it.
     *
     * @param ttl how long the lock outlives its holder if the holder dies without releasing it;
     *            the implementation renews it while held
     */
    Optional<Lease> tryAcquire(String jobName, Duration ttl);

    /** A held lock. */
    interface Lease extends AutoCloseable {
        /** False once the lock was lost (renewal failed or another holder took it): stop before the next write. */
        boolean isHeld();

        /** Releases the lock; throws nothing. */
        @Override
        void close();
    }
}
