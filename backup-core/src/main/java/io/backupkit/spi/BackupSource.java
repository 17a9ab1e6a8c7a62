package io.backupkit.spi;

/**
 * Turns a database into named byte streams plus metadata. The source writes each stream through
 * {@link BackupContext#newStream(String)}, in parallel if it likes; backupkit chunks, deduplicates,
 * compresses, encrypts and stores them while they are written.
 */
public interface BackupSource {

    /** The {@link DatabaseEngine#name()} of this source. */
    String engine();

    /** What is being backed up, for messages and the manifest; never contains a password. */
    String describe();

    /**
     * Writes the database into {@code context}. Returns normally only when every stream is complete;
     * any exception aborts the backup and no snapshot is written.
     */
    void backup(BackupContext context);
}
