package io.backupkit.spi;

import io.backupkit.ConfigurationException;
import io.backupkit.Repository;
import io.backupkit.RestorePlan;
import io.backupkit.Snapshot;
import io.backupkit.VerificationCheck;

import java.util.List;

/**
 * Consumes the named streams of a snapshot and rebuilds the database from them. Engine-specific
 * choices (which tables, schema only, drop existing) are options of the target's own builder.
 */
public interface RestoreTarget {

    /** The {@link DatabaseEngine#name()} of this target. */
    String engine();

    /** Where the restore goes, for messages; never contains a password. */
    String describe();

    /**
     * The snapshot that "latest" stands for with this target, chosen from all snapshots of the
     * repository (oldest first). By default the newest one. A point-in-time target picks the newest
     * base backup that ends before its recovery target, on a timeline that leads to it.
     *
     * @throws ConfigurationException when no snapshot fits, saying why
     */
    default Snapshot latest(Repository repository, List<Snapshot> snapshots) {
        if (snapshots.isEmpty()) {
            throw new ConfigurationException("repository " + repository.location() + " has no snapshots yet");
        }
        return snapshots.get(snapshots.size() - 1);
    }

    /** What {@link #restore} would do, without changing anything. */
    RestorePlan plan(RestoreContext context);

    /**
     * Restores the snapshot. Refuses, touching nothing, when the target exists and the target was not
     * told to replace it. A failed restore into a database it created removes that database again.
     */
    void restore(RestoreContext context);

    /**
     * Restores into a scratch location, checks the result against the snapshot's metadata (row counts,
     * schema), removes the scratch location and returns the checks. Used by the comprehensive
     * verification level.
     */
    default List<VerificationCheck> verifyByRestore(RestoreContext context) {
        throw new ConfigurationException("the " + engine() + " target " + describe() + " cannot verify by restoring");
    }
}
