package io.backupkit.internal.chunker;

/**
 * One chunk of a stream in a (usually pooled) buffer: {@code data()[0, length())}. Whoever holds it
 * last calls {@link #release()}, which returns the buffer to its pool; the chunk must not be used after.
 * {@link #sha256()} is the chunk's SHA-256 when the stream computed it (repositories that hash each
 * byte once), else null.
 */
public final class Chunk {
    private final ChunkPool pool;
    private byte[] data;
    private int length;
    private byte[] sha256;

    Chunk(ChunkPool pool, byte[] data) {
        this.pool = pool;
        this.data = data;
    }

    /** A chunk over an array the caller hands over (not pooled). */
    public static Chunk of(byte[] data) {
        Chunk c = new Chunk(null, data);
        c.length = data.length;
        return c;
    }

    public byte[] data() {
        return data;
    }

    public int length() {
        return length;
    }

    void append(byte[] b, int off, int len) {
        System.arraycopy(b, off, data, length, len);
        length += len;
    }

    public byte[] sha256() {
        return sha256;
    }

    public void sha256(byte[] digest) {
        this.sha256 = digest;
    }

    /** Gives the buffer back; idempotent. */
    public void release() {
        byte[] d = data;
        data = null;
        if (d != null && pool != null) {
            pool.give(d);
        }
    }
}
