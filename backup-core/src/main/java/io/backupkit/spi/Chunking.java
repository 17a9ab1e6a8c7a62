package io.backupkit.spi;

/**
 * How a stream is cut into blobs for deduplication; chosen per stream with
 * {@link BackupContext#newStream(String, Chunking)}.
 *
 * <ul>
 *   <li>{@link #contentDefined()} (the default of {@link BackupContext#newStream(String)}): FastCDC
 *       with the repository's sizes. Survives inserts that shift data, as in dumps.</li>
 *   <li>{@link #fixed(int)}: blocks of a fixed size counted from the start of the stream and from
 *       every {@link BlockOutputStream#boundary()}. For data changed in place at stable offsets, such
 *       as PostgreSQL relation files (8 KiB pages): a changed page changes one block.</li>
 * </ul>
 *
 * <pre>{@code
 * try (BlockOutputStream out = context.newStream("base.tar", Chunking.fixed(256 * 1024))) {
 *     for (File f : files) { out.boundary(); writeHeader(out, f); out.boundary(); copy(f, out); }
 * }
 * }</pre>
 */
public final class Chunking {
    private static final Chunking CONTENT_DEFINED = new Chunking(0);
    private final int blockSize;

    private Chunking(int blockSize) {
        this.blockSize = blockSize;
    }

    /** Content-defined chunks (FastCDC) with the repository's sizes. */
    public static Chunking contentDefined() {
        return CONTENT_DEFINED;
    }

    /**
     * Fixed-size blocks of {@code blockSize} bytes (at least 4 KiB); the pipeline caps it at the
     * repository's maximum chunk size, which bounds memory.
     */
    public static Chunking fixed(int blockSize) {
        if (blockSize < 4096) {
            throw new IllegalArgumentException("fixed block size must be at least 4096 bytes, was " + blockSize);
        }
        return new Chunking(blockSize);
    }

    /** True for fixed-size blocks. */
    public boolean isFixed() {
        return blockSize > 0;
    }

    /** The block size of fixed-size chunking; 0 for content-defined chunking. */
    public int blockSize() {
        return blockSize;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Chunking c && c.blockSize == blockSize;
    }

    @Override
    public int hashCode() {
        return blockSize;
    }

    @Override
    public String toString() {
        return isFixed() ? "fixed(" + blockSize + ")" : "content-defined";
    }
}
