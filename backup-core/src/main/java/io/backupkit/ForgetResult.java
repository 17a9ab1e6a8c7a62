package io.backupkit;

import java.util.List;

/**
 * What {@link ForgetManager#forget()} removed (or with {@code dryRun} would remove).
 *
 * @param plan    the policy's decision per group, with reasons
 * @param removed snapshots whose manifests were deleted (or would be)
 * @param dryRun  nothing was deleted
 * @param logs    what each engine's log retention ({@link io.backupkit.spi.LogRetention}: PostgreSQL WAL, MySQL
 *                binary logs) removed (or would remove) because no remaining snapshot needs it; one entry per engine
 *                module on the class path, empty when log retention is off
 */
public record ForgetResult(RetentionPlan plan, List<SnapshotSummary> removed, boolean dryRun, List<LogsExpired> logs) {
    public ForgetResult {
        removed = List.copyOf(removed);
        logs = List.copyOf(logs);
    }

    /**
     * Log objects one engine's retention removed (or would remove).
     *
     * @param engine  the engine ("postgresql")
     * @param objects storage names of the log objects ({@code wal/<system-id>/<TLI>/<segment>})
     * @param bytes   their stored size
     * @param notes   what was kept and why ("cluster 7312…: WAL kept from 0/5000028 (4 files removed)")
     */
    public record LogsExpired(String engine, List<String> objects, long bytes, List<String> notes) {
        public LogsExpired {
            objects = List.copyOf(objects);
            notes = List.copyOf(notes);
        }
    }

    /** Log objects removed (or that would be) over all engines. */
    public int logObjectsExpired() {
        return logs.stream().mapToInt(l -> l.objects().size()).sum();
    }

    /** Their stored bytes. */
    public long logBytesExpired() {
        return logs.stream().mapToLong(LogsExpired::bytes).sum();
    }
}
