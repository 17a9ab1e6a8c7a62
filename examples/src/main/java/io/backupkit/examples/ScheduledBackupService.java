package io.backupkit.examples;

import io.backupkit.BackupManager;
import io.backupkit.Repository;
import io.backupkit.VerificationLevel;
import io.backupkit.ops.BackupScheduler;
import io.backupkit.ops.Health;
import io.backupkit.ops.JobEvent;
import io.backupkit.ops.RetryPolicy;
import io.backupkit.ops.RunRecord;
import io.backupkit.ops.Schedule;
import io.backupkit.ops.ScheduledJob;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A service's own scheduled backup on top of backup-ops' {@link BackupScheduler}: on its schedule it
 * backs the database up, verifies the new snapshot quickly (every blob present) and exposes the
 * outcome to the service's health check. A failed run is retried, then logged and counted, and the
 * schedule goes on. Replicas of the service sharing the repository run each tick once.
 *
 * <pre>{@code
 * BackupManager backups = BackupManager.builder()
 *         .repository(repo)
 *         .source(PostgresSource.builder().url("postgresql://backup@db/shop").password(pw).build())
 *         .tag("trigger", "schedule")
 *         .build();
 * ScheduledBackupService service = new ScheduledBackupService(repo, backups,
 *         Schedule.cron("0 *&#47;6 * * *", ZoneId.of("Europe/Berlin")));
 * service.start();
 * // health endpoint: service.health().healthy(), service.lastSuccess(), service.consecutiveFailures()
 * }</pre>
 */
public final class ScheduledBackupService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ScheduledBackupService.class);

    private final BackupScheduler scheduler;
    private final AtomicReference<RunRecord> lastSuccess = new AtomicReference<>();
    private final AtomicReference<String> lastError = new AtomicReference<>();
    private final AtomicInteger consecutiveFailures = new AtomicInteger();
    private final AtomicInteger runs = new AtomicInteger();

    public ScheduledBackupService(Repository repository, BackupManager backups, Schedule schedule) {
        Objects.requireNonNull(repository, "repository");
        Objects.requireNonNull(backups, "backups");
        this.scheduler = BackupScheduler.builder()
                .repository(repository)
                .job(ScheduledJob.backup("service-backup", backups)
                        .schedule(Objects.requireNonNull(schedule, "schedule"))
                        .verify(VerificationLevel.QUICK)
                        .retry(RetryPolicy.exponential(1, Duration.ofSeconds(1), Duration.ofSeconds(1)))
                        .build())
                .listener(this::track)
                .build();
    }

    private void track(JobEvent e) {
        switch (e.type()) {
            case STARTED -> {
                if (e.attempt() == 1) {
                    runs.incrementAndGet();
                }
            }
            case SUCCEEDED -> {
                lastSuccess.set(e.run());
                lastError.set(null);
                consecutiveFailures.set(0);
                LOG.info("scheduled backup: snapshot {} ({} read, {} new bytes stored)", e.snapshotId(), e.run().bytesRead(),
                        e.run().bytesStored());
            }
            case FAILED -> {
                lastError.set(e.error());
                LOG.warn("scheduled backup failed ({} in a row): {}", consecutiveFailures.incrementAndGet(), e.error());
            }
            default -> {
            }
        }
    }

    /** Starts the schedule; returns at once. */
    public void start() {
        scheduler.start();
    }

    /** Whether backups are in order and, if not, why (for the service's health endpoint). */
    public Health health() {
        return scheduler.health();
    }

    /** The last successful run: its snapshot, figures and verification. */
    public Optional<RunRecord> lastSuccess() {
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

    /** Stops the schedule; a backup in progress may finish for up to a minute. */
    @Override
    public void close() {
        scheduler.stop(Duration.ofMinutes(1));
    }
}
