package io.backupkit.redis.internal;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.io.UncheckedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Commands sent without waiting for their replies: the caller writes, a reader thread takes the
 * replies as they come, so the server never waits for the client between batches (a synchronous
 * pipeline costs a round trip, i.e. a wake-up of both processes, per batch — seconds on a loaded
 * machine for a few hundred thousand keys). At most {@code maxInFlight} commands are unanswered;
 * the first error reply is kept with the command it answers and thrown from the next call.
 *
 * <p>Only for commands whose reply is checked for an error and otherwise ignored (RESTORE). Anything
 * whose effect the following commands depend on (SELECT) goes through {@link #call}, which first
 * waits for every reply.
 */
public final class RestorePipeline implements Closeable {
    /** A refused command: what was sent (for the message) and the server's error. */
    public record Failure(byte[] key, String command, String message) {
    }

    private static final Object STOP = new Object();
    private static final Object OK = new Object();
    private final RespConnection connection;
    private final InputStream in;
    /** Replies are read from here, not byte by byte from the connection's synchronized buffered stream: 5 bytes per key add up. */
    private final byte[] buf = new byte[1 << 16];
    private int pos;
    private int lim;
    private final Semaphore inFlight;
    private final int maxInFlight;
    private final BlockingQueue<Object> expected;
    private final AtomicReference<Failure> failure = new AtomicReference<>();
    private final AtomicReference<Throwable> broken = new AtomicReference<>();
    private final Thread reader;

    private record Pending(String command, byte[] key) {
    }

    public RestorePipeline(RespConnection connection, int maxInFlight) {
        this.connection = connection;
        this.in = connection.input();
        this.maxInFlight = maxInFlight;
        this.inFlight = new Semaphore(maxInFlight);
        this.expected = new ArrayBlockingQueue<>(maxInFlight + 1);
        this.reader = new Thread(this::readReplies, "backupkit-redis-replies");
        reader.setDaemon(true);
        reader.start();
    }

    private void readReplies() {
        try {
            while (true) {
                Object next = expected.take();
                if (next == STOP) {
                    return;
                }
                Pending p = (Pending) next;
                Object r = reply();
                if (r instanceof RespConnection.RespError e) {
                    failure.compareAndSet(null, new Failure(p.key(), p.command(), e.message()));
                }
                inFlight.release();
            }
        } catch (IOException | RuntimeException e) {
            broken.compareAndSet(null, e);
            inFlight.release(maxInFlight); // wake a waiting sender; it sees the failure
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Sends {@code args} (command name first); returns at once unless {@code maxInFlight} replies are outstanding. */
    public void send(byte[] key, byte[]... args) {
        check();
        try {
            if (!inFlight.tryAcquire()) {
                connection.flush(); // let the server see what it must answer before we wait for it
                inFlight.acquire();
                check();
            }
            expected.add(new Pending(new String(args[0], StandardCharsets.US_ASCII), key));
            connection.write(args);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while sending to Redis", e);
        }
    }

    /** Waits until every command sent so far is answered; throws on the first refused command or a broken connection. */
    public void drain() {
        try {
            connection.flush();
            inFlight.acquire(maxInFlight);
            inFlight.release(maxInFlight);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for Redis", e);
        }
        check();
    }

    /** Drains, then sends one command and returns its reply (an error reply is returned, not thrown). */
    public Object call(byte[]... args) {
        drain();
        try {
            synchronized (this) {
                // the reader is idle (nothing expected): this thread may read the reply itself
                connection.write(args);
                connection.flush();
                Object r = reply();
                return r == OK ? "OK" : r;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private int next() throws IOException {
        if (pos == lim) {
            int n = in.read(buf, 0, buf.length);
            if (n <= 0) {
                throw new EOFException("Redis at " + connection.url() + " closed the connection");
            }
            pos = 0;
            lim = n;
        }
        return buf[pos++] & 0xff;
    }

    /** The rest of a line, without CR LF. */
    private String line() throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = next()) != '\n') {
            if (c != '\r') {
                sb.append((char) c);
            }
        }
        return sb.toString();
    }

    private void skipLine() throws IOException {
        while (next() != '\n') {
            // the rest of "+OK\r\n"
        }
    }

    /** One reply: an error as {@link RespConnection.RespError} (UTF-8 decoded), anything else skipped and returned as OK. */
    private Object reply() throws IOException {
        int t = next();
        switch (t) {
            case '+', ':' -> skipLine();
            case '-' -> {
                String line = line();
                return new RespConnection.RespError(new String(line.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8));
            }
            case '$' -> {
                long n = Long.parseLong(line());
                for (long i = 0; i < n + 2 && n >= 0; i++) {
                    next();
                }
            }
            case '*' -> {
                long n = Long.parseLong(line());
                Object first = OK;
                for (long i = 0; i < n; i++) {
                    Object r = reply();
                    if (first == OK && r != OK) {
                        first = r;
                    }
                }
                return first;
            }
            default -> throw new IOException("unexpected reply from Redis at " + connection.url() + ": '" + (char) t + "'");
        }
        return OK;
    }

    private void check() {
        Throwable t = broken.get();
        if (t instanceof IOException io) {
            throw new UncheckedIOException(io);
        }
        if (t instanceof RuntimeException r) {
            throw r;
        }
        Failure f = failure.get();
        if (f != null) {
            throw new RefusedException(f);
        }
    }

    /** Thrown when the server refused a pipelined command. */
    public static final class RefusedException extends RuntimeException {
        private final Failure failure;

        RefusedException(Failure failure) {
            super(failure.command() + " refused: " + failure.message());
            this.failure = failure;
        }

        public Failure failure() {
            return failure;
        }
    }

    @Override
    public void close() {
        if (inFlight.availablePermits() < maxInFlight) {
            connection.close(); // replies still outstanding (a failed restore): unblock the reader
        }
        expected.offer(STOP);
        try {
            reader.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        connection.close();
    }
}
