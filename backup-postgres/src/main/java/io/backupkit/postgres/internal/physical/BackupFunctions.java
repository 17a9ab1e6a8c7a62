package io.backupkit.postgres.internal.physical;

import io.backupkit.ConfigurationException;

/**
 * The SQL of the low-level backup API for a server version. PostgreSQL 15 renamed
 * {@code pg_start_backup}/{@code pg_stop_backup} to {@code pg_backup_start}/{@code pg_backup_stop} and
 * dropped exclusive backups; 13 and 14 take the non-exclusive form with {@code exclusive => false}.
 * Both must run in one session, which stays open in between (closing it aborts the backup).
 *
 * @param start SQL with one parameter (the label) returning the start LSN; requests an immediate checkpoint
 * @param stop  SQL returning {@code lsn, labelfile, spcmapfile}; does not wait for WAL archiving
 *              (the WAL the backup needs is copied into the snapshot itself)
 */
public record BackupFunctions(String start, String stop) {
    /** Oldest supported server: 13 (backup manifests, {@code pg_stat_progress_basebackup}). */
    public static final int MIN_VERSION_NUM = 130000;

    public static BackupFunctions forVersion(int serverVersionNum) {
        if (serverVersionNum < MIN_VERSION_NUM) {
            throw new ConfigurationException("PostgreSQL " + serverVersionNum / 10000 + " is not supported for physical backups: "
                    + "backupkit needs PostgreSQL 13 or newer");
        }
        if (serverVersionNum >= 150000) {
            return new BackupFunctions("SELECT pg_backup_start(?, true)",
                    "SELECT lsn, labelfile, spcmapfile FROM pg_backup_stop(false)");
        }
        return new BackupFunctions("SELECT pg_start_backup(?, true, false)",
                "SELECT lsn, labelfile, spcmapfile FROM pg_stop_backup(false, false)");
    }
}
