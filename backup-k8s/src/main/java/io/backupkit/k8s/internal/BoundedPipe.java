package io.backupkit.k8s.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * A byte pipe from a websocket listener (which must never block) to the thread that consumes a
 * remote process's output. The listener appends and asks for the next message only while less
 * than {@code capacity} bytes wait ({@link #whenRoom}), so a slow consumer slows the remote tool
 * down instead of filling the heap. A consumer that closes its end makes further data disappear.
 * The producer ends the pipe normally ({@link #finish()}) or with a failure ({@link #fail}) that
 * the reader sees as an {@link IOException} once it has read everything before it.
 */
public final class BoundedPipe {
    private final ArrayDeque<ByteBuffer> chunks = new ArrayDeque<>();
    private final long capacity;
    private long buffered;
    private boolean finished;
    private IOException failure;
    private boolean readerClosed;
    private boolean unbounded;
    private Runnable onRoom;

    public BoundedPipe(long capacity) {
        this.capacity = capacity;
    }

    /**
     * While true there is always room: used until the command has started, so output arriving
     * early cannot hold up the start line on the other stream of the same connection.
     */
    public void unbounded(boolean on) {
        Runnable r;
        synchronized (this) {
            unbounded = on;
            r = takeRoomCallback();
        }
        if (r != null) {
            r.run();
        }
    }

    /** Adds data; never blocks. */
    public synchronized void append(ByteBuffer data) {
        if (readerClosed || finished || !data.hasRemaining()) {
            return;
        }
        buffered += data.remaining();
        chunks.add(data);
        notifyAll();
    }

    /** Runs {@code r} (ask for more input) now if there is room, else once the reader has made room. */
    public void whenRoom(Runnable r) {
        boolean now;
        synchronized (this) {
            now = unbounded || readerClosed || finished || buffered < capacity;
            if (!now) {
                onRoom = r;
            }
        }
        if (now) {
            r.run();
        }
    }

    private Runnable takeRoomCallback() {
        if (onRoom != null && (unbounded || readerClosed || finished || buffered < capacity)) {
            Runnable r = onRoom;
            onRoom = null;
            return r;
        }
        return null;
    }

    public void finish() {
        Runnable r;
        synchronized (this) {
            finished = true;
            notifyAll();
            r = takeRoomCallback();
        }
        if (r != null) {
            r.run();
        }
    }

    public void fail(IOException e) {
        Runnable r;
        synchronized (this) {
            if (finished) {
                return;
            }
            failure = e;
            finished = true;
            notifyAll();
            r = takeRoomCallback();
        }
        if (r != null) {
            r.run();
        }
    }

    /** Discards everything; a reader sees the end of the stream. */
    public void abort() {
        closeReader();
    }

    /** Bytes waiting to be read. */
    public synchronized long buffered() {
        return buffered;
    }

    private int read(byte[] b, int off, int len, long deadline) throws IOException {
        if (len == 0) {
            return 0;
        }
        Runnable r = null;
        int n;
        synchronized (this) {
            while (true) {
                if (readerClosed) {
                    throw new IOException("stream closed");
                }
                ByteBuffer head = chunks.peek();
                if (head != null) {
                    n = Math.min(len, head.remaining());
                    head.get(b, off, n);
                    if (!head.hasRemaining()) {
                        chunks.poll();
                    }
                    buffered -= n;
                    r = takeRoomCallback();
                    break;
                }
                if (finished) {
                    if (failure != null) {
                        throw new IOException(failure.getMessage(), failure);
                    }
                    return -1;
                }
                try {
                    if (deadline == 0) {
                        wait();
                    } else {
                        long left = (deadline - System.nanoTime()) / 1_000_000L;
                        if (left <= 0) {
                            throw new SocketTimeoutException("no answer in time");
                        }
                        wait(left);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while waiting for remote output");
                }
            }
        }
        if (r != null) {
            r.run();
        }
        return n;
    }

    /**
     * Reads one line (without its newline) of at most {@code max} bytes, or null at the end of the
     * stream; waits at most {@code timeoutMillis} in all.
     *
     * @throws SocketTimeoutException when no whole line arrived in time
     */
    public String readLine(int max, long timeoutMillis) throws IOException {
        long deadline = System.nanoTime() + Math.max(1, timeoutMillis) * 1_000_000L;
        StringBuilder sb = new StringBuilder();
        byte[] one = new byte[1];
        while (sb.length() < max) {
            int n = read(one, 0, 1, deadline);
            if (n < 0) {
                return sb.length() == 0 ? null : sb.toString();
            }
            if (one[0] == '\n') {
                return sb.toString();
            }
            sb.append((char) (one[0] & 0xff));
        }
        return sb.toString();
    }

    private void closeReader() {
        Runnable r;
        synchronized (this) {
            readerClosed = true;
            chunks.clear();
            buffered = 0;
            notifyAll();
            r = takeRoomCallback();
        }
        if (r != null) {
            r.run();
        }
    }

    /** The reader's end. */
    public InputStream source() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = BoundedPipe.this.read(one, 0, 1, 0);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return BoundedPipe.this.read(b, off, len, 0);
            }

            @Override
            public int available() {
                synchronized (BoundedPipe.this) {
                    return (int) Math.min(Integer.MAX_VALUE, buffered);
                }
            }

            @Override
            public void close() {
                closeReader();
            }
        };
    }
}
