package io.backupkit.spi;

import io.backupkit.ConfigurationException;
import io.backupkit.Repository;
import io.backupkit.Snapshot;

import java.io.InputStream;

/** What a {@link RestoreTarget} reads from. Thread-safe. */
public interface RestoreContext {

    /** The snapshot being restored: its streams and the engine metadata the source recorded. */
    Snapshot snapshot();

    /**
     * Opens a stream of the snapshot. Blobs are fetched ahead in parallel; reading to the end checks the
     * stream's SHA-256 and throws {@link io.backupkit.IntegrityException} on a mismatch.
     *
     * @throws io.backupkit.ConfigurationException when the snapshot has no such stream
     */
    InputStream openStream(String name);

    /** How many streams the target may read at once. */
    int parallelism();

    /** Where the target runs its tools. */
    CommandExecutor commandExecutor();

    /**
     * The repository the snapshot comes from, for targets that need more than the snapshot's streams
     * (a point-in-time restore reads the log archive beside it). Not closed by the target.
     */
    default Repository repository() {
        throw new ConfigurationException("this restore context gives no access to its repository");
    }
}
