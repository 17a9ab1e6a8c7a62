package io.backupkit.spi;

import java.io.IOException;
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

    /**
     * Opens a new stream cut into blobs as {@code chunking} says (see {@link Chunking}), with
     * {@link BlockOutputStream#boundary()} to mark where each file of an archive starts. Otherwise as
     * {@link #newStream(String)}. This default ignores the choice and the boundaries (content-defined
     * chunks); the backup pipeline honours both.
     */
    default BlockOutputStream newStream(String name, Chunking chunking) {
        OutputStream out = newStream(name);
        return new BlockOutputStream() {
            @Override
            public void boundary() {
                // a context that stores no blobs has nothing to align
            }

            @Override
            public void write(int b) throws IOException {
                out.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void flush() throws IOException {
                out.flush();
            }

            @Override
            public void close() throws IOException {
                out.close();
            }
        };
    }

    /** Records engine metadata in the snapshot manifest; {@code value} must be serializable to JSON. */
    void putMetadata(String key, Object value);

    /** Tells listeners how many bytes the source expects to write in all (for progress and ETA). */
    void expectedBytes(long bytes);
}
