package io.backupkit.spi;

import io.backupkit.Repository;
import io.backupkit.Snapshot;

import java.util.List;

/**
 * Retention of an engine's {@link io.backupkit.LogArchive} (PostgreSQL WAL, MySQL binary logs):
 * after snapshots are forgotten, removes the log objects that no remaining snapshot needs for
 * point-in-time recovery. Implemented by engine modules and found with {@link java.util.ServiceLoader};
 * the core's retention calls every implementation with the snapshots that stay.
 *
 * <pre>{@code
 * for (LogRetention r : ServiceLoader.load(LogRetention.class)) {
 *     LogRetention.Result res = r.apply(repository, keptSnapshots, dryRun);
 * }
 * }</pre>
 */
public interface LogRetention {

    /** The engine whose logs this handles, as in {@link Snapshot#engine()} ("postgresql"). */
    String engine();

    /**
     * Removes (or with {@code dryRun} only lists) the log objects no snapshot in {@code retained}
     * needs. Conservative: logs of a source with no retained snapshot that needs logs are kept.
     *
     * @param retained every snapshot that stays (of all engines; implementations pick theirs)
     */
    Result apply(Repository repository, List<Snapshot> retained, boolean dryRun);

    /**
     * What was (or would be) removed.
     *
     * @param objects storage names of the removed log objects
     * @param bytes   their stored size
     * @param notes   what was kept and why, for the user (e.g. "cluster 7312…: no retained base backup; its WAL is kept")
     */
    record Result(List<String> objects, long bytes, List<String> notes) {
        public Result {
            objects = List.copyOf(objects);
            notes = List.copyOf(notes);
        }
    }
}
