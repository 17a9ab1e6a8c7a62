package io.backupkit.ops;

import io.backupkit.Repository;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Extension point for recovery points newer than the newest snapshot, such as archived WAL for
 * point-in-time recovery. Found with {@link java.util.ServiceLoader} (or given to
 * {@link RepositoryStatus#read}); the RPO is measured to the newest point any source knows, and
 * {@code backupkit_wal_archive_lag_seconds} is exported when a source reports a lag.
 */
public interface RecoveryPointSource {

    /** The newest instant the repository can restore to, if this source knows one. */
    Optional<Instant> newestRecoverablePoint(Repository repository);

    /** How far the archive lags behind the database (e.g. age of the newest archived WAL segment). */
    default Optional<Duration> archiveLag(Repository repository, Instant now) {
        return Optional.empty();
    }
}
