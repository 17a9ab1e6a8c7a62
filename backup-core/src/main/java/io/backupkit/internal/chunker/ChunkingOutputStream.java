package io.backupkit.internal.chunker;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;

/**
 * Cuts what is written into chunks (content-defined or fixed-size, as the {@link Chunker} decides)
 * and hands each to a {@link ChunkSink}. Holds at most one maximum-size chunk of buffered data.
 * {@link #boundary()} ends the current chunk where the writer says, so no chunk spans two files of
 * an archive.
 */
public class ChunkingOutputStream extends OutputStream {
    /** Receives chunks in stream order; the array is owned by the sink. */
    public interface ChunkSink {
        void chunk(byte[] data) throws IOException;
    }

    private final Chunker chunker;
    private final ChunkSink sink;
    private final byte[] buf;
    private int fill;
    private boolean closed;

    public ChunkingOutputStream(Chunker chunker, ChunkSink sink) {
        this.chunker = chunker;
        this.sink = sink;
        this.buf = new byte[chunker.max()];
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[]{(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("stream is closed");
        }
        while (len > 0) {
            int n = Math.min(len, buf.length - fill);
            System.arraycopy(b, off, buf, fill, n);
            fill += n;
            off += n;
            len -= n;
            if (fill == buf.length) {
                emit(chunker.cut(buf, 0, fill));
            }
        }
    }

    private void emit(int cut) throws IOException {
        byte[] chunk = Arrays.copyOf(buf, cut);
        System.arraycopy(buf, cut, buf, 0, fill - cut);
        fill -= cut;
        sink.chunk(chunk);
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

    /** Emits the remaining buffered data as the last chunks. */
    protected void finishChunks() throws IOException {
        while (fill > 0) {
            emit(chunker.cut(buf, 0, fill));
        }
    }

    @Override
    public void close() throws IOException {
        if (!closed) {
            finishChunks();
            closed = true;
        }
    }
}
