package io.backupkit.internal.chunker;

/** Decides where a stream is cut into chunks. Immutable and thread-safe. */
public interface Chunker {

    /** The largest chunk this chunker cuts (the buffer a stream keeps). */
    int max();

    /**
     * The length of the next chunk in {@code buf[off, off+len)}. Only called with {@code len >= max()}
     * or at the end of the data (end of stream or a boundary the writer marked).
     */
    int cut(byte[] buf, int off, int len);
}
