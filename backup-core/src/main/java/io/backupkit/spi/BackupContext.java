package io.backupkit.spi;

import java.io.OutputStream;

/** What a {@link BackupSource} writes into. Thread-safe. */
public interface BackupContext {

    /** How many streams the source may write at once. */
    int parallelism();

    /** Where the source runs its tools. */
    CommandExecutor commandExecutor();

    /**
     * Opens a new stream. Closing it completes the stream; a stream not closed when
     * {@link BackupSource#backup} returns fails the backup. Stream names are unique per snapshot.
     */
    OutputStream newStream(String name);

    /** Records engine metadata in the snapshot manifest; {@code value} must be serializable to JSON. */
    void putMetadata(String key, Object value);

    /** Tells listeners how many bytes the source expects to write in all (for progress and ETA). */
    void expectedBytes(long bytes);
}
