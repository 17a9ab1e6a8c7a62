package io.backupkit.examples;

import io.backupkit.BackupException;
import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.Repository;
import io.backupkit.VerificationLevel;
import io.backupkit.VerificationReport;
import io.backupkit.Verifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A service's own scheduled backup: every {@code interval} it backs the database up, verifies the new
 * snapshot quickly (every blob present) and remembers the outcome for a health check. A failed run is
 * logged and counted, and the schedule goes on: an exception escaping a scheduled task would silently
 * cancel every later run.
 *
 * <pre>{@code
 * ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
 * BackupManager backups = BackupManager.builder()
 *         .repository(repo)
 *         .source(PostgresSource.builder().url("postgresql://backup@db/shop").password(pw).build())
 *         .tag("trigger", "schedule")
 *         .build();
 * ScheduledBackupService service = new ScheduledBackupService(repo, backups, Duration.ofHours(6), scheduler);
 * service.start();
 * // health endpoint: service.lastSuccess(), service.consecutiveFailures()
 * }</pre>
 *
 * <p>The scheduler belongs to the caller: {@link #close()} cancels this service's task and leaves the
 * executor running.
 */
public final class ScheduledBackupService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ScheduledBackupService.class);

    /** The outcome of one successful run. */
    public record Run(Instant finished, BackupResult backup, VerificationReport verification) {
    }

    private final Repository repository;
    private final BackupManager backups;
    private final Duration interval;
    private final ScheduledExecutorService scheduler;
    private final AtomicReference<Run> lastSuccess = new AtomicReference<>();
    private final AtomicReference<String> lastError = new AtomicReference<>();
    private final AtomicInteger consecutiveFailures = new AtomicInteger();
    private final AtomicInteger runs = new AtomicInteger();
    private ScheduledFuture<?> task;

    public ScheduledBackupService(Repository repository, BackupManager backups, Duration interval, ScheduledExecutorService scheduler) {
        this.repository = Objects.requireNonNull(repository, "repository");
        this.backups = Objects.requireNonNull(backups, "backups");
        this.interval = Objects.requireNonNull(interval, "interval");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("interval must be positive, was " + interval);
        }
    }

    /** Runs the first backup now, then one {@code interval} after each run ends (runs never overlap). */
    public synchronized void start() {
        if (task != null) {
            throw new IllegalStateException("already started");
        }
        task = scheduler.scheduleWithFixedDelay(this::runOnce, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** One backup and quick verification; never throws. */
    public void runOnce() {
        runs.incrementAndGet();
        try {
            BackupResult backup = backups.backup();
            VerificationReport report = Verifier.builder().repository(repository).snapshot(backup.snapshotId())
                    .level(VerificationLevel.QUICK).build().verify();
            if (!report.passed()) {
                fail("snapshot " + backup.snapshot().shortId() + " failed verification: " + report.failures());
                return;
            }
            lastSuccess.set(new Run(Instant.now(), backup, report));
            consecutiveFailures.set(0);
            lastError.set(null);
            LOG.info("scheduled backup: snapshot {} ({} read, {} new bytes stored, {} ms)", backup.snapshot().shortId(),
                    backup.bytesRead(), backup.bytesStored(), backup.duration().toMillis());
        } catch (BackupException e) {
            fail(e.getMessage());
        } catch (RuntimeException e) {
            fail(e.toString());
        }
    }

    private void fail(String message) {
        consecutiveFailures.incrementAndGet();
        lastError.set(message);
        LOG.warn("scheduled backup failed ({} in a row): {}", consecutiveFailures.get(), message);
    }

    public Optional<Run> lastSuccess() {
        return Optional.ofNullable(lastSuccess.get());
    }

    public Optional<String> lastError() {
        return Optional.ofNullable(lastError.get());
    }

    public int consecutiveFailures() {
        return consecutiveFailures.get();
    }

    /** Runs started so far, successful or not. */
    public int runs() {
        return runs.get();
    }

    /** Cancels future runs; a run in progress finishes. The scheduler is not shut down. */
    @Override
    public synchronized void close() {
        if (task != null) {
            task.cancel(false);
        }
    }
}
