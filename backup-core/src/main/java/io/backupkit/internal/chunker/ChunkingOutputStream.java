package io.backupkit.internal.chunker;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Cuts what is written into chunks (content-defined or fixed-size, as the {@link Chunker} decides)
 * and hands each to a {@link ChunkSink}. Each byte is copied once, from the caller's array into the
 * chunk it belongs to: the cut points are found while the bytes arrive ({@link Chunker.Scanner}), so
 * nothing is buffered past a cut or moved afterwards. Holds at most one chunk (its pooled buffer)
 * between writes. {@link #boundary()} ends the current chunk where the writer says, so no chunk spans
 * two files of an archive.
 */
public class ChunkingOutputStream extends OutputStream {
    /** Receives chunks in stream order; the sink owns each chunk and must {@link Chunk#release()} it. */
    public interface ChunkSink {
        void chunk(Chunk chunk) throws IOException;
    }

    private final Chunker.Scanner scanner;
    private final ChunkPool pool;
    private final ChunkSink sink;
    private final byte[] one = new byte[1];
    private Chunk current;
    private boolean closed;

    public ChunkingOutputStream(Chunker chunker, ChunkPool pool, ChunkSink sink) {
        if (pool.capacity() < chunker.max()) {
            throw new IllegalArgumentException("chunk buffers of " + pool.capacity() + " bytes cannot hold chunks of up to " + chunker.max());
        }
        this.scanner = chunker.scanner();
        this.pool = pool;
        this.sink = sink;
    }

    /** Unpooled buffers of the chunker's maximum size, for callers without a pool. */
    public ChunkingOutputStream(Chunker chunker, ChunkSink sink) {
        this(chunker, new ChunkPool(chunker.max(), 2), sink);
    }

    @Override
    public void write(int b) throws IOException {
        one[0] = (byte) b;
        write(one, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("stream is closed");
        }
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        while (len > 0) {
            if (current == null) {
                current = pool.take();
            }
            int cut = scanner.scan(b, off, len);
            int n = cut == 0 ? len : cut;
            current.append(b, off, n);
            off += n;
            len -= n;
            if (cut > 0) {
                emit();
            }
        }
    }

    private void emit() throws IOException {
        Chunk c = current;
        current = null;
        sink.chunk(c);
    }

    /**
     * Cuts everything written so far into chunks now: the next byte written starts a new chunk (and,
     * for fixed-size blocks, a new block count).
     */
    public void boundary() throws IOException {
        if (closed) {
            throw new IOException("stream is closed");
        }
        finishChunks();
    }

    /** Emits the data written since the last cut as the last chunk. */
    protected void finishChunks() throws IOException {
        if (current != null && current.length() > 0) {
            emit();
        }
        scanner.reset();
    }

    @Override
    public void close() throws IOException {
        if (!closed) {
            closed = true;
            try {
                finishChunks();
            } finally {
                if (current != null) {
                    current.release();
                    current = null;
                }
            }
        }
    }
}
