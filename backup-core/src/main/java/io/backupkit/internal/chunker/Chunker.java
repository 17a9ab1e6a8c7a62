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

    /** A new incremental scanner for one stream, finding the same cuts as {@link #cut} (one per stream). */
    Scanner scanner();

    /**
     * Finds cut points while the data arrives, so a stream never buffers bytes past a cut and never
     * moves them. Not thread-safe.
     */
    interface Scanner {
        /**
         * Feeds {@code b[off, off+len)}: returns {@code r} in {@code 1..len} when the current chunk ends
         * after {@code b[off+r-1]} (the scanner then starts the next chunk), or 0 when all {@code len}
         * bytes belong to the current chunk and no cut is due yet.
         */
        int scan(byte[] b, int off, int len);

        /** Starts a new chunk (after a cut the scanner does this itself). */
        void reset();

        /** Bytes of the current chunk seen so far. */
        int position();
    }
}
