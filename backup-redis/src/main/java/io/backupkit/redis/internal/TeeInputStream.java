package io.backupkit.redis.internal;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Copies what the parser reads into another stream (the repository stream, an RDB file), exactly and
 * in order. Only {@code read} is teed: {@link RdbInput} skips by reading, never by
 * {@link InputStream#skip}, so nothing passes by the copy.
 */
public final class TeeInputStream extends FilterInputStream {
    private final OutputStream out;

    public TeeInputStream(InputStream in, OutputStream out) {
        super(in);
        this.out = out;
    }

    @Override
    public int read() throws IOException {
        int b = super.read();
        if (b >= 0) {
            out.write(b);
        }
        return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        int n = super.read(b, off, len);
        if (n > 0) {
            out.write(b, off, n);
        }
        return n;
    }
}
