package io.backupkit.postgres.internal;

import io.backupkit.postgres.internal.wal.KeepAliveSocketFactory;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;
import org.postgresql.copy.CopyOut;
import org.postgresql.core.PGStream;
import org.postgresql.core.QueryExecutorBase;
import org.postgresql.core.VisibleBufferedInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Field;
import java.net.Socket;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * COPY … TO STDOUT read by this JVM through a pgjdbc session, in bulk: the backup's data sessions where the
 * tools run on this machine (docs/performance.md, "jcopy").
 *
 * <p>PostgreSQL sends one CopyData message per row (~100 bytes in pgbench). psql receives them through
 * libpq and writes them into a pipe, and pgjdbc's {@link CopyOut#readFromCopy} hands over one new array per
 * row (~100 ns of JVM per row): either costs about as much CPU as the rest of the JVM's reading. Here the
 * session's socket is read into a large buffer of this class ({@link Tap}, below pgjdbc's own 8 KiB one) and
 * the CopyData messages are taken out of it in place, their payloads copied out in one pass. Every message
 * that is not CopyData (the end of the COPY, an error, a notice), and the end of the stream, is left to
 * pgjdbc, which reads it through the same buffer, so the protocol's state stays the driver's.
 *
 * <p>The reader is lazy once a COPY is under way: when a read has emptied the socket it waits before the next,
 * so the server fills the socket meanwhile. A reader that keeps up with the server is woken for every few KiB,
 * and both sides pay for each wake-up (the server's {@code send()} 13–16 % of a COPY backend's CPU on loopback,
 * "stdbuf"); read every millisecond, the same COPY costs less CPU and no time. The wait must never make the
 * server wait on a full socket, so it adapts to the socket: after each wait, if the bytes waiting have reached a
 * quarter of the socket's receive buffer (which the kernel grows as needed, up to {@code net.ipv4.tcp_rmem}'s
 * maximum), the next wait is half as long; if they stay below a sixteenth, twice as long (at most
 * {@link #MAX_WAIT_NANOS}); and where even {@link #MIN_WAIT_NANOS} fills it (a fixed small buffer, say), the
 * session stops waiting.
 *
 * <p>Bulk reading needs the session's plain socket: it is used when pgjdbc built the session's input on the
 * socket this class made (not through TLS or GSS encryption, not through a socket factory of the user's) and
 * when the driver's internals it reaches are where they are in the pgjdbc it was built against (two fields,
 * found by reflection). Otherwise the rows come one by one through {@link CopyOut#readFromCopy}: the same
 * bytes, at the driver's cost.
 */
final class JdbcCopy implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(JdbcCopy.class);

    /** The longest wait for the socket to fill, and the first: ~340 KB of pgbench rows arrive meanwhile from one backend. */
    static final long MAX_WAIT_NANOS = 1_000_000;
    /** The shortest: below it the session stops waiting. */
    static final long MIN_WAIT_NANOS = 125_000;
    /** A COPY is "under way" once this much of it has been read: short tables never wait. */
    static final long LAZY_AFTER = 1 << 20;
    /** The size of a session's read buffer ({@link Tap}). */
    static final int BUFFER = 1 << 20;
    /** The size of the pieces written to the stream. */
    private static final int OUT_PIECE = 256 << 10;

    private static final Field PG_STREAM = field(QueryExecutorBase.class, "pgStream");
    private static final Field PG_INPUT = field(PGStream.class, "pgInput");

    private static Field field(Class<?> owner, String name) {
        try {
            Field f = owner.getDeclaredField(name);
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.debug("pgjdbc's {}.{} is not reachable ({}): COPY rows are read one by one", owner.getSimpleName(), name, e.toString());
            return null;
        }
    }

    private final Connection connection;
    private final CopyManager copyApi;
    /** The session's socket input, or null where rows are read one by one. */
    final Tap tap;
    private final VisibleBufferedInputStream driverInput;
    private final byte[] out = new byte[OUT_PIECE];
    private int outLength;

    private JdbcCopy(Connection connection, Tap tap, VisibleBufferedInputStream driverInput) throws SQLException {
        this.connection = connection;
        this.copyApi = connection.unwrap(PGConnection.class).getCopyAPI();
        this.tap = tap;
        this.driverInput = driverInput;
    }

    /** Sessions opened row by row because the driver could not load {@link TapSocketFactory} (tests). */
    static final AtomicLong FACTORY_NOT_LOADED = new AtomicLong();

    /**
     * Opens a session as {@link Catalog#connect} does, through a socket this class can read in bulk. The
     * URL's own {@code socketFactory}, if it names one, wins, and so does a driver that cannot load this
     * class's factory (pgjdbc 42.7 tries its own class loader, then the thread's context loader; where neither sees
     * this class, PostgresDriverInAnotherClassLoaderIT): then rows are read one by one. TCP keepalives are on, as libpq
     * has them (pgjdbc's default is off), with the replication connection's timers on this class's sockets
     * ({@link KeepAliveSocketFactory}): a COPY from a peer that vanished fails within about 30 s instead of
     * waiting forever.
     */
    static JdbcCopy open(PgConnectionConfig cfg, String applicationName) throws SQLException {
        Properties p = cfg.jdbcProperties(applicationName);
        p.setProperty("tcpKeepAlive", "true");
        if (PG_STREAM != null && PG_INPUT != null) {
            Properties tapped = new Properties();
            tapped.putAll(p);
            tapped.setProperty("socketFactory", TapSocketFactory.class.getName());
            Connection c = null;
            try {
                c = java.sql.DriverManager.getConnection(cfg.jdbcUrl(), tapped);
            } catch (SQLException e) {
                if (e.getMessage() == null || !e.getMessage().contains(TapSocketFactory.class.getName())) {
                    throw e;
                }
                LOG.debug("pgjdbc could not load {}: COPY rows are read one by one ({})", TapSocketFactory.class.getName(), e.toString());
                FACTORY_NOT_LOADED.incrementAndGet();
            }
            if (c != null) {
                return tapped(c);
            }
        }
        return session(java.sql.DriverManager.getConnection(cfg.jdbcUrl(), p), null, null);
    }

    /** The session over {@code c}, read in bulk if its input is the plain socket this class's factory made. */
    private static JdbcCopy tapped(Connection c) throws SQLException {
        try {
            Object executor = c.unwrap(org.postgresql.core.BaseConnection.class).getQueryExecutor();
            if (executor instanceof QueryExecutorBase) {
                PGStream stream = (PGStream) PG_STREAM.get(executor);
                VisibleBufferedInputStream input = (VisibleBufferedInputStream) PG_INPUT.get(stream);
                // TLS or GSS encryption put their stream between the driver and the socket: then the bytes are not messages
                if (stream.getSocketFactory() instanceof TapSocketFactory f && f.socket != null && stream.getSocket() == f.socket
                        && !stream.isGssEncrypted() && input.getWrapped() == f.socket.tap) {
                    return session(c, f.socket.tap, input);
                }
            }
        } catch (SQLException | ReflectiveOperationException | RuntimeException | LinkageError e) {
            // the rows can still come through the driver's API
            LOG.debug("COPY session without bulk reading: {}", e.toString());
        }
        return session(c, null, null);
    }

    private static JdbcCopy session(Connection c, Tap tap, VisibleBufferedInputStream input) throws SQLException {
        try {
            return new JdbcCopy(c, tap, input);
        } catch (SQLException | RuntimeException | Error e) {
            try {
                c.close();
            } catch (SQLException | RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** Closes the session. */
    @Override
    public void close() throws SQLException {
        connection.close();
    }

    /** Whether this session reads COPY data in bulk (else row by row through the driver). */
    boolean bulk() {
        return tap != null;
    }

    Connection connection() {
        return connection;
    }

    /**
     * Runs {@code COPY … TO STDOUT}, writes its data into {@code sink}, returns the rows (CopyData messages),
     * checked against the count in the server's CommandComplete.
     */
    long copyOut(String sql, OutputStream sink) throws SQLException, IOException {
        // nothing of an earlier COPY that failed before its last piece was written
        outLength = 0;
        CopyOut copy = copyApi.copyOut(sql);
        long rows = tap == null ? rowByRow(copy, sink) : bulk(copy, sink);
        long counted = copy.getHandledRowCount();
        if (counted >= 0 && counted != rows) {
            throw new SQLException("the COPY ended after " + rows + " rows, the server sent " + counted, "08P01");
        }
        flush(sink);
        return rows;
    }

    private long rowByRow(CopyOut copy, OutputStream sink) throws SQLException, IOException {
        long rows = 0;
        byte[] row;
        while ((row = copy.readFromCopy()) != null) {
            append(row, 0, row.length, sink);
            rows++;
        }
        return rows;
    }

    private long bulk(CopyOut copy, OutputStream sink) throws SQLException, IOException {
        long rows = 0;
        tap.startCopy();
        while (true) {
            takeDriversBytes();
            rows += tap.copyData((b, off, len) -> append(b, off, len, sink));
            // the end of the COPY, an error, a notice or a lost connection: the driver's to read and raise
            byte[] row = copy.readFromCopy();
            if (row == null) {
                return rows;
            }
            append(row, 0, row.length, sink);
            rows++;
        }
    }

    /** Where {@link Tap#copyData} puts the rows' bytes. */
    interface Rows {
        void append(byte[] b, int off, int len) throws IOException;
    }

    /** Moves what pgjdbc has buffered beyond its last message back in front of the tap's bytes. */
    private void takeDriversBytes() throws SQLException {
        tap.quiet = true;
        try {
            // with the tap quiet, the driver reports only what its own buffer holds, and skipping that reads nothing
            int buffered = driverInput.available();
            if (buffered > 0) {
                tap.unread(driverInput.getBuffer(), driverInput.getIndex(), buffered);
                if (driverInput.skip(buffered) != buffered) {
                    throw new SQLException("pgjdbc's input buffer did not give up its " + buffered + " bytes", "08P01");
                }
            }
        } catch (IOException e) {
            throw new SQLException("reading pgjdbc's input buffer failed: " + e.getMessage(), "08P01", e);
        } finally {
            tap.quiet = false;
        }
    }

    private void append(byte[] b, int off, int len, OutputStream sink) throws IOException {
        while (len > 0) {
            if (outLength == out.length) {
                flush(sink);
            }
            int n = Math.min(len, out.length - outLength);
            System.arraycopy(b, off, out, outLength, n);
            outLength += n;
            off += n;
            len -= n;
        }
    }

    /** Writes the piece buffer's rows into the stream: when it is full, and at the end of each COPY. */
    private void flush(OutputStream sink) throws IOException {
        if (outLength > 0) {
            sink.write(out, 0, outLength);
            outLength = 0;
        }
    }

    /**
     * The wait after one of {@code wait} nanoseconds left {@code waiting} bytes in a socket whose receive buffer
     * is {@code capacity} bytes (the kernel's count, overhead included: about half of it holds data): half as long
     * when they reached a quarter of it, close to where the server would wait on a full socket, and 0 (no more
     * waits) below {@link #MIN_WAIT_NANOS}; twice as long, up to {@link #MAX_WAIT_NANOS}, when they stayed below a
     * sixteenth; else the same.
     */
    static long nextWait(long wait, int waiting, int capacity) {
        if (waiting >= capacity / 4) {
            return wait / 2 < MIN_WAIT_NANOS ? 0 : wait / 2;
        }
        if (waiting < capacity / 16) {
            return Math.min(MAX_WAIT_NANOS, wait * 2);
        }
        return wait;
    }

    /**
     * The session socket's input as pgjdbc reads it, through a buffer of {@link #BUFFER} bytes this class
     * reads CopyData messages out of directly. Only the thread of the session reads it.
     */
    static final class Tap extends InputStream {
        private final InputStream raw;
        byte[] buf = new byte[BUFFER];
        int pos;
        int lim;
        /** While set, {@link #available} says 0, so the driver's {@code available()} tells its own buffer only. */
        boolean quiet;
        private long readInCopy;
        /** Whether the last read emptied the socket. */
        private boolean drained;
        /** The next wait for the socket to fill; 0: this session does not wait (any more). */
        long waitNanos = MAX_WAIT_NANOS;
        /** Waits so far (tests). */
        long waits;
        final Socket socket;

        Tap(InputStream raw, Socket socket) {
            this.raw = raw;
            this.socket = socket;
        }

        void startCopy() {
            readInCopy = 0;
            drained = false;
        }

        @Override
        public int read() throws IOException {
            if (pos == lim && !refill()) {
                return -1;
            }
            return buf[pos++] & 0xff;
        }

        @Override
        public int read(byte[] to, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (pos == lim && !refill()) {
                return -1;
            }
            int n = Math.min(len, lim - pos);
            System.arraycopy(buf, pos, to, off, n);
            pos += n;
            return n;
        }

        /** The driver's reads: at once, never lazily. */
        private boolean refill() throws IOException {
            pos = 0;
            lim = 0;
            int n = raw.read(buf, 0, buf.length);
            if (n <= 0) {
                return false;
            }
            lim = n;
            return true;
        }

        /**
         * Takes the CopyData messages at the front of the buffer out of it, their payloads into {@code rows},
         * reading the socket as needed, until another message (left in the buffer, whole or in part, for the
         * driver) or the end of the stream. Returns the messages taken. A read that fails, or a stream that
         * ends inside a message, is the server's connection lost (SQLSTATE 08006); a failure of {@code rows}
         * is its own.
         */
        long copyData(Rows rows) throws SQLException, IOException {
            long taken = 0;
            while (ensure(5) && buf[pos] == 'd') {
                int len = ((buf[pos + 1] & 0xff) << 24 | (buf[pos + 2] & 0xff) << 16 | (buf[pos + 3] & 0xff) << 8 | (buf[pos + 4] & 0xff)) - 4;
                if (len < 0) {
                    throw new SQLException("malformed CopyData message from the server (length " + (len + 4) + ")", "08P01");
                }
                pos += 5;
                // a row larger than the buffer passes through in pieces
                while (len > 0) {
                    if (pos == lim && !ensure(1)) {
                        // a message cut short: nothing the driver could read on from
                        throw new SQLException("the server closed the connection in the middle of a COPY row", "08006");
                    }
                    int n = Math.min(len, lim - pos);
                    rows.append(buf, pos, n);
                    pos += n;
                    len -= n;
                }
                taken++;
            }
            return taken;
        }

        /**
         * Makes at least {@code need} bytes (≤ a few) readable from {@link #pos}, moving what is left to the
         * buffer's start when the end is near; false at the end of the stream. The lazy reads of a COPY.
         */
        boolean ensure(int need) throws SQLException {
            try {
                return fill(need);
            } catch (IOException e) {
                throw new SQLException("reading the COPY from the server failed: " + e.getMessage(), "08006", e);
            }
        }

        private boolean fill(int need) throws IOException {
            if (lim - pos >= need) {
                return true;
            }
            if (pos > 0 && buf.length - pos < Math.max(need, 64 << 10)) {
                System.arraycopy(buf, pos, buf, 0, lim - pos);
                lim -= pos;
                pos = 0;
            }
            while (lim - pos < need) {
                if (drained && waitNanos > 0 && readInCopy >= LAZY_AFTER) {
                    awaitData();
                }
                int n = raw.read(buf, lim, buf.length - lim);
                if (n <= 0) {
                    return false;
                }
                lim += n;
                readInCopy += n;
                drained = raw.available() == 0;
            }
            return true;
        }

        /** Lets the server fill the socket for {@link #waitNanos}, and adapts the next wait to how full it got. */
        private void awaitData() throws IOException {
            LockSupport.parkNanos(waitNanos);
            waits++;
            waitNanos = nextWait(waitNanos, raw.available(), socket.getReceiveBufferSize());
        }

        /** Puts {@code len} bytes back in front of the unread ones. */
        void unread(byte[] b, int off, int len) {
            if (len <= pos) {
                pos -= len;
                System.arraycopy(b, off, buf, pos, len);
                return;
            }
            byte[] n = new byte[Math.max(buf.length, len + lim - pos)];
            System.arraycopy(b, off, n, 0, len);
            System.arraycopy(buf, pos, n, len, lim - pos);
            lim = len + lim - pos;
            pos = 0;
            buf = n;
        }

        @Override
        public int available() throws IOException {
            return quiet ? 0 : lim - pos;
        }

        @Override
        public void close() throws IOException {
            raw.close();
        }
    }

    /** A plain socket whose input is a {@link Tap}. */
    static final class TapSocket extends Socket {
        private Tap tap;

        @Override
        public synchronized InputStream getInputStream() throws IOException {
            if (tap == null) {
                tap = new Tap(super.getInputStream(), this);
            }
            return tap;
        }
    }

    /**
     * The socket factory named in the session's properties. pgjdbc instantiates it by name for every
     * connection it opens and asks it for that connection's socket (one per host it tries: the last is the
     * connection's, which {@link #open} checks).
     */
    public static final class TapSocketFactory extends UnconnectedSocketFactory {
        volatile TapSocket socket;

        public TapSocketFactory() {
        }

        @Override
        public Socket createSocket() throws IOException {
            TapSocket s = new TapSocket();
            // a peer that vanished fails the read within ~30 s instead of holding the COPY for hours
            KeepAliveSocketFactory.configure(s);
            socket = s;
            return s;
        }
    }
}
