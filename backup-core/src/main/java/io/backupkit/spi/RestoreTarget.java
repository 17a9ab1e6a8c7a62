package io.backupkit.spi;

import io.backupkit.ConfigurationException;
import io.backupkit.RestorePlan;
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
