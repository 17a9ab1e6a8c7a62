package io.backupkit.spi;

import java.util.Map;

/**
 * A kind of database backupkit can back up and restore (PostgreSQL, …). Found through
 * {@link java.util.ServiceLoader} by the connection URL; applications usually build a
 * {@link BackupSource} or {@link RestoreTarget} of the engine's module directly instead.
 */
public interface DatabaseEngine {

    /** Engine name recorded in every snapshot ("postgresql"). */
    String name();

    /** Whether this engine handles {@code url} ("postgresql://…", "jdbc:postgresql:…"). */
    boolean supports(String url);

    /**
     * A source that backs up the database at {@code url}.
     *
     * @param options engine options by name ("password", "jobs", "toolDirectory", …)
     */
    BackupSource source(String url, Map<String, String> options);

    /** A target that restores into the database at {@code url}. */
    RestoreTarget target(String url, Map<String, String> options);
}
