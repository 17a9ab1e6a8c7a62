package io.backupkit.redis.internal;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/**
 * Exact reads from an RDB stream: never reads ahead of what the parser asks for (the replication
 * stream's end marker follows the RDB directly), keeps the CRC-64 of everything read, and can capture
 * the bytes of one value for a RESTORE payload.
 */
final class RdbInput {
    private final InputStream in;
    private final Crc64 crc = new Crc64();
    private long position;
    private ByteArrayOutputStream capture;
    private final byte[] one = new byte[1];

    RdbInput(InputStream in) {
        this.in = in;
    }

    long position() {
        return position;
    }

    long crc() {
        return crc.value();
    }

    void startCapture(int type) {
        capture = new ByteArrayOutputStream(64);
        capture.write(type);
    }

    byte[] endCapture() {
        byte[] b = capture.toByteArray();
        capture = null;
        return b;
    }

    boolean capturing() {
        return capture != null;
    }

    int u8() throws IOException {
        readFully(one, 0, 1);
        return one[0] & 0xff;
    }

    byte[] bytes(int n) throws IOException {
        byte[] b = new byte[n];
        readFully(b, 0, n);
        return b;
    }

    /** Reads and discards {@code n} bytes (still counted, checksummed and captured). */
    void skip(long n) throws IOException {
        byte[] buf = new byte[(int) Math.min(n, 64 * 1024)];
        while (n > 0) {
            int k = (int) Math.min(n, buf.length);
            readFully(buf, 0, k);
            n -= k;
        }
    }

    long u32le() throws IOException {
        byte[] b = bytes(4);
        return (b[0] & 0xffL) | (b[1] & 0xffL) << 8 | (b[2] & 0xffL) << 16 | (b[3] & 0xffL) << 24;
    }

    long u32beAsLong() throws IOException {
        byte[] b = bytes(4);
        return (b[0] & 0xffL) << 24 | (b[1] & 0xffL) << 16 | (b[2] & 0xffL) << 8 | (b[3] & 0xffL);
    }

    long u64le() throws IOException {
        byte[] b = bytes(8);
        long v = 0;
        for (int i = 7; i >= 0; i--) {
            v = (v << 8) | (b[i] & 0xff);
        }
        return v;
    }

    void readFully(byte[] b, int off, int len) throws IOException {
        int done = 0;
        while (done < len) {
            int n = in.read(b, off + done, len - done);
            if (n < 0) {
                throw new EOFException("the RDB stream ends early at byte " + (position + done) + " (" + (len - done) + " more bytes expected)");
            }
            done += n;
        }
        crc.update(b, off, len);
        if (capture != null) {
            capture.write(b, off, len);
        }
        position += len;
    }
}
