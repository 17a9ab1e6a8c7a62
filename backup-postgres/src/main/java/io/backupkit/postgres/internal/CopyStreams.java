package io.backupkit.postgres.internal;

import io.backupkit.IntegrityException;

import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * The layout of a COPY data stream that holds several tables one after another: each table's
 * COPY text ({@code COPY … TO STDOUT}, text format) followed by a line {@code \.}. COPY text never
 * contains that line (a backslash in data is always written as {@code \\}, and the stream is in a
 * server encoding, where every byte below 0x80 is ASCII), so the marker is unambiguous. This is
 * the same terminator COPY itself uses in pg_dump's plain-text output.
 */
public final class CopyStreams {
    /** The psql meta-command that writes the marker line to the query output, after each table's COPY. */
    static final String PSQL_MARKER_COMMAND = "\\qecho '\\\\.'";

    private CopyStreams() {
    }

    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long NEWLINES = 0x0A0A0A0A0A0A0A0AL;
    private static final long ONES = 0x0101010101010101L;
    private static final long HIGHS = 0x8080808080808080L;

    /**
     * The index of the first {@code '\n'} in {@code b[from, to)}, or -1. Eight bytes at a time: in
     * {@code x = word ^ 0x0A…0A} a newline is a zero byte, and {@code (x - 0x01…01) & ~x & 0x80…80}
     * sets the high bit of every zero byte (and possibly of bytes above one, never below), so its
     * lowest set bit is the first newline. Every byte of a COPY stream passes here once; a byte-by-byte
     * loop cost more than the rest of the stream's handling in the JVM.
     */
    static int indexOfNewline(byte[] b, int from, int to) {
        int i = from;
        for (int last = to - 8; i <= last; i += 8) {
            long x = (long) LONGS.get(b, i) ^ NEWLINES;
            long t = (x - ONES) & ~x & HIGHS;
            if (t != 0) {
                return i + (Long.numberOfTrailingZeros(t) >>> 3);
            }
        }
        for (; i < to; i++) {
            if (b[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    /** Counts rows (newlines) per segment while bytes pass by; a segment ends at a marker line. */
    public static final class Counter {
        private final List<Long> finished = new ArrayList<>();
        private long rows;
        /** 0: at a line start; 1: saw "\" at a line start; 2: saw "\." at a line start; 3: inside a line. */
        private int state;

        public void update(byte[] b, int off, int len) {
            int end = off + len;
            for (int i = off; i < end; i++) {
                if (state == 3) {
                    // inside a line only the newline that ends it matters: find it a word at a time
                    int nl = indexOfNewline(b, i, end);
                    if (nl < 0) {
                        return;
                    }
                    rows++;
                    state = 0;
                    i = nl;
                    continue;
                }
                byte c = b[i];
                switch (state) {
                    case 0 -> state = c == '\\' ? 1 : c == '\n' ? countRow() : 3;
                    case 1 -> state = c == '.' ? 2 : c == '\n' ? countRow() : 3;
                    case 2 -> {
                        if (c == '\n') {
                            finished.add(rows);
                            rows = 0;
                            state = 0;
                        } else {
                            state = 3;
                        }
                    }
                    default -> {
                        if (c == '\n') {
                            state = countRow();
                        }
                    }
                }
            }
        }

        private int countRow() {
            rows++;
            return 0;
        }

        /** Rows of every finished segment, in order. */
        public List<Long> segments() {
            return List.copyOf(finished);
        }

        /** Rows since the last marker (the whole stream when it has none). */
        public long openRows() {
            return rows;
        }
    }

    /**
     * Splits a multi-table COPY stream back into one input per table. Each segment ends at its
     * marker line, which is consumed and not returned; a stream that ends inside a segment is an
     * {@link IntegrityException}, never a silently short table.
     */
    public static final class SegmentReader {
        private final InputStream in;
        private final String streamName;
        private final byte[] buf = new byte[64 * 1024];
        private int pos;
        private int limit;
        private boolean eof;
        private boolean atLineStart = true;
        private boolean inSegment;

        public SegmentReader(InputStream in, String streamName) {
            this.in = in;
            this.streamName = streamName;
        }

        /** The next table's COPY text; read it to its end before asking for the next one. */
        public InputStream nextSegment() {
            if (inSegment) {
                throw new IllegalStateException("the previous segment of " + streamName + " was not read to its end");
            }
            inSegment = true;
            atLineStart = true;
            return new InputStream() {
                private boolean done;

                @Override
                public int read() throws IOException {
                    byte[] one = new byte[1];
                    int n = read(one, 0, 1);
                    return n < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (done) {
                        return -1;
                    }
                    if (len == 0) {
                        return 0;
                    }
                    int n = 0;
                    while (n < len) {
                        if (atLineStart) {
                            if (!ensure(3) && limit - pos == 0) {
                                throw truncated();
                            }
                            if (limit - pos >= 3 && buf[pos] == '\\' && buf[pos + 1] == '.' && buf[pos + 2] == '\n') {
                                pos += 3;
                                done = true;
                                inSegment = false;
                                return n == 0 ? -1 : n;
                            }
                            if (limit - pos < 3 && eof) {
                                throw truncated();
                            }
                            atLineStart = false;
                        }
                        if (pos == limit && !ensure(1)) {
                            throw truncated();
                        }
                        // copy up to and including the next newline
                        int end = Math.min(limit, pos + (len - n));
                        int i = indexOfNewline(buf, pos, end);
                        if (i < 0) {
                            i = end;
                        } else {
                            i++;
                            atLineStart = true;
                        }
                        System.arraycopy(buf, pos, b, off + n, i - pos);
                        n += i - pos;
                        pos = i;
                    }
                    return n;
                }
            };
        }

        /** True when no bytes follow the last segment. */
        public boolean atEnd() throws IOException {
            return !ensure(1);
        }

        /** Makes at least {@code n} bytes available if the input has them; false when fewer remain. */
        private boolean ensure(int n) throws IOException {
            if (limit - pos >= n) {
                return true;
            }
            if (pos > 0) {
                System.arraycopy(buf, pos, buf, 0, limit - pos);
                limit -= pos;
                pos = 0;
            }
            while (limit - pos < n && !eof) {
                int r = in.read(buf, limit, buf.length - limit);
                if (r < 0) {
                    eof = true;
                } else {
                    limit += r;
                }
            }
            return limit - pos >= n;
        }

        private IntegrityException truncated() {
            return new IntegrityException("stream " + streamName, "the COPY data ends inside a table (no end marker): the stream is "
                    + "truncated or damaged");
        }
    }
}
