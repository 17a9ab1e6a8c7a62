package io.backupkit.redis.internal;

import io.backupkit.EngineException;

import java.io.Closeable;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The RDB of a whole instance as a replica gets it (what {@code redis-cli --rdb} does): {@code REPLCONF
 * capa eof} when diskless transfer is welcome, {@code REPLCONF rdb-only 1} on 7.0+ (the server sends
 * the RDB and nothing after it), then {@code SYNC}. The reply is {@code $<length>\r\n} followed by that
 * many bytes (disk-based), or {@code $EOF:<40 random bytes>\r\n} followed by the RDB and the same 40
 * bytes (diskless). Newlines before it are keep-alives while the server forks and starts writing.
 *
 * <p>The server's RDB is a point-in-time snapshot of every logical database (the fork of BGSAVE).
 */
public final class ReplicationStream implements Closeable {
    private static final int MARK_LENGTH = 40;

    private final RespConnection connection;
    private final long length;   // -1 for the end-marker format
    private final byte[] mark;   // null for the length format
    private final CountingInput input;

    private ReplicationStream(RespConnection connection, long length, byte[] mark) {
        this.connection = connection;
        this.length = length;
        this.mark = mark;
        InputStream raw = connection.input();
        this.input = new CountingInput(length >= 0 ? new Bounded(raw, length) : raw);
    }

    /**
     * Starts a full synchronization on an authenticated connection.
     *
     * @param diskless announce {@code capa eof}, so the server may stream the RDB without writing it to its disk
     * @param rdbOnly  the server knows {@code REPLCONF rdb-only}
     */
    public static ReplicationStream start(RespConnection c, boolean diskless, boolean rdbOnly) throws IOException {
        if (diskless) {
            c.check("REPLCONF", "capa", "eof");
        }
        if (rdbOnly) {
            c.check("REPLCONF", "rdb-only", "1");
        }
        c.send("SYNC");
        while (true) {
            String line = c.line();
            if (line.isEmpty()) {
                continue; // keep-alive while the server prepares the RDB
            }
            if (line.startsWith("-")) {
                throw RespConnection.commandFailed(c.url(), "SYNC", line.substring(1));
            }
            if (line.startsWith("$EOF:")) {
                byte[] mark = line.substring(5).getBytes(StandardCharsets.ISO_8859_1);
                if (mark.length != MARK_LENGTH) {
                    throw new EngineException("Redis at " + c.url() + " sent an end marker of " + mark.length + " bytes, expected " + MARK_LENGTH);
                }
                return new ReplicationStream(c, -1, mark);
            }
            if (line.startsWith("$")) {
                long len;
                try {
                    len = Long.parseLong(line.substring(1));
                } catch (NumberFormatException e) {
                    throw new EngineException("Redis at " + c.url() + " answered SYNC with '" + line + "', not an RDB transfer");
                }
                return new ReplicationStream(c, len, null);
            }
            if (line.startsWith("+")) {
                continue; // e.g. +FULLRESYNC of servers that treat SYNC like PSYNC
            }
            throw new EngineException("Redis at " + c.url() + " answered SYNC with '" + line + "', not an RDB transfer");
        }
    }

    /** "diskless" (end-marker framing) or "disk" (length framing). */
    public String transfer() {
        return mark != null ? "diskless" : "disk";
    }

    /** The announced length of a disk-based transfer, or -1. */
    public long announcedLength() {
        return length;
    }

    /** The RDB bytes; read it exactly to its end (the parser does), then call {@link #finish()}. */
    public InputStream rdb() {
        return input;
    }

    /** Checks the framing after the RDB: all announced bytes read, or the end marker follows. */
    public void finish() throws IOException {
        if (mark == null) {
            if (input.count != length) {
                throw new EngineException("Redis at " + connection.url() + " announced " + length + " RDB bytes but the RDB ended after "
                        + input.count);
            }
            return;
        }
        byte[] tail = connection.input().readNBytes(MARK_LENGTH);
        if (!Arrays.equals(tail, mark)) {
            throw new EngineException("the RDB from Redis at " + connection.url() + " is not followed by the transfer's end marker "
                    + "(the transfer was cut or garbled)");
        }
    }

    @Override
    public void close() {
        connection.close();
    }

    private static final class CountingInput extends FilterInputStream {
        long count;

        CountingInput(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }
    }

    private static final class Bounded extends FilterInputStream {
        private long left;

        Bounded(InputStream in, long left) {
            super(in);
            this.left = left;
        }

        @Override
        public int read() throws IOException {
            if (left <= 0) {
                return -1;
            }
            int b = super.read();
            if (b >= 0) {
                left--;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) {
                return -1;
            }
            int n = super.read(b, off, (int) Math.min(len, left));
            if (n > 0) {
                left -= n;
            }
            return n;
        }
    }
}
