package io.backupkit.k8s.internal;

import io.backupkit.EngineException;
import io.backupkit.k8s.KubernetesException;
import io.backupkit.spi.CommandSpec;
import io.backupkit.spi.RunningCommand;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A command running in a pod over one exec connection, under the {@link ExecScript} wrapper. stdout
 * and stderr arrive through bounded pipes: a consumer that reads slowly slows the remote tool down.
 * Like a local process, the caller must drain stdout and stderr (on separate threads) for the
 * command to finish, since both share one connection.
 */
public final class PodProcess implements RunningCommand {
    private static final Logger LOG = LoggerFactory.getLogger(PodProcess.class);
    /** Stdin frame: one dd in the pod per frame. */
    static final int FRAME = 1 << 20;
    static final long PIPE_CAPACITY = 4L << 20;

    private final ExecContext ctx;
    private final String tool;
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final AtomicBoolean released = new AtomicBoolean();
    private ExecSession session;
    private volatile long pid = -1;
    private volatile boolean timedOut;
    private FramedStdin stdin;
    private ScheduledFuture<?> timeout;

    private PodProcess(ExecContext ctx, String tool) {
        this.ctx = ctx;
        this.tool = tool;
    }

    /** Starts {@code spec} in the context's pod; returns once the tool runs. */
    public static PodProcess start(ExecContext ctx, CommandSpec spec) {
        byte[] header = ExecScript.header(spec.environment(), spec.inheritEnvironment());
        PodProcess p = new PodProcess(ctx, spec.command().get(0));
        p.open(spec, header);
        return p;
    }

    private String where() {
        return ctx.pod().describe();
    }

    private void open(CommandSpec spec, byte[] header) {
        try {
            session = ExecSession.open(ctx.client(), ctx.pod(), ExecScript.command(spec), true, PIPE_CAPACITY, ctx.startTimeout());
        } catch (Exception e) {
            throw KubernetesErrors.translate(e, "create", "pods/exec", ctx.pod().namespace(), "pod " + ctx.pod().pod());
        }
        session.stdout().unbounded(true);
        session.stderr().unbounded(true);
        session.outcome().whenComplete((o, t) -> ended(o));
        this.stdin = new FramedStdin();
        try {
            session.send(header, 0, header.length);
            String line = session.stderr().readLine(512, ctx.startTimeout().toMillis());
            if (line != null && line.startsWith(ExecScript.STARTED)) {
                pid = Long.parseLong(line.substring(ExecScript.STARTED.length()).strip());
            } else if (line != null && line.startsWith(ExecScript.NOT_FOUND)) {
                awaitQuietly();
                release();
                throw new EngineException(tool + " not found in " + where() + " (looked on the container's PATH): the tools run inside "
                        + "the database container; choose the container that has them, or set toolDirectory to where they are in it",
                        127, "", null);
            } else if (line != null && line.startsWith(ExecScript.NO_DIRECTORY)) {
                awaitQuietly();
                release();
                throw new EngineException("working directory " + line.substring(ExecScript.NO_DIRECTORY.length()) + " does not exist in "
                        + where(), 126, "", null);
            } else {
                ExecSession.Outcome o = awaitQuietly();
                release();
                String why = line != null ? "it wrote '" + line + "'"
                        : o != null && o.failure() != null ? o.failure()
                        : o != null ? "it exited with status " + o.exitCode() + " before starting " + tool
                        : "no answer";
                throw new EngineException("cannot run " + tool + " in " + where() + " (the container needs sh and dd): " + why,
                        -1, "", null);
            }
        } catch (SocketTimeoutException e) {
            release();
            throw new KubernetesException("no answer from " + where() + " within " + ctx.startTimeout().toSeconds() + " s after starting "
                    + tool + " there", e);
        } catch (IOException e) {
            ExecSession.Outcome o = awaitQuietly();
            release();
            throw new EngineException("cannot run " + tool + " in " + where() + " (the container needs sh and dd): "
                    + (o != null && o.failure() != null ? o.failure() : e.getMessage()), -1, "", e);
        }
        session.stdout().unbounded(false);
        session.stderr().unbounded(false);
        if (ctx.commandTimeout() != null) {
            timeout = ctx.scheduler().schedule(() -> {
                if (isAlive()) {
                    timedOut = true;
                    LOG.warn("{} in {} ran longer than {}; stopping it", tool, where(), ctx.commandTimeout());
                    destroy();
                }
            }, ctx.commandTimeout().toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private void ended(ExecSession.Outcome o) {
        if (o != null && o.lost() && !stopping.get() && pid > 0) {
            // closing an exec connection does not stop the remote process: stop it, in the background
            LOG.warn("{} in {}: {}; stopping it", tool, where(), o.failure());
            ctx.scheduler().execute(() -> killRemote(pid));
        }
    }

    private ExecSession.Outcome awaitQuietly() {
        try {
            return session.outcome().get(ctx.startTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (ExecutionException | TimeoutException e) {
            return null;
        }
    }

    @Override
    public OutputStream stdin() {
        return stdin;
    }

    @Override
    public InputStream stdout() {
        return session.stdout().source();
    }

    @Override
    public InputStream stderr() {
        return session.stderr().source();
    }

    /** The tool's process id in the container. */
    public long pid() {
        return pid;
    }

    @Override
    public int waitFor() throws InterruptedException {
        try {
            return result(session.outcome().get());
        } catch (ExecutionException e) {
            throw new KubernetesException(tool + " in " + where() + " failed: " + e.getCause(), e.getCause());
        }
    }

    @Override
    public boolean waitFor(Duration limit) throws InterruptedException {
        try {
            session.outcome().get(limit.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            return true;
        }
    }

    private int result(ExecSession.Outcome o) {
        if (timedOut) {
            throw new KubernetesException(tool + " in " + where() + " ran longer than the command timeout (" + ctx.commandTimeout()
                    + ") and was stopped");
        }
        if (o.exitCode() != null) {
            return o.exitCode();
        }
        throw new KubernetesException(tool + " in " + where() + ": " + o.failure()
                + "; its work is not complete (a backup writes no snapshot, a restore removes the database it created)");
    }

    @Override
    public boolean isAlive() {
        return !session.ended();
    }

    /** Stops the remote tool (TERM, then KILL after the grace period) and closes the connection. */
    @Override
    public void destroy() {
        if (stopping.compareAndSet(false, true) && isAlive() && pid > 0) {
            killRemote(pid);
            try {
                session.outcome().get(ctx.killGrace().toMillis() + 10_000, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                LOG.debug("{} in {} did not report its end after being stopped", tool, where());
            }
        }
        stopping.set(true);
        session.close();
    }

    private void killRemote(long target) {
        long tenths = Math.max(1, ctx.killGrace().toMillis() / 100);
        ExecSession k = null;
        try {
            k = ExecSession.open(ctx.client(), ctx.pod(), ExecScript.killCommand(target, tenths), false, 1 << 16, ctx.startTimeout());
            k.stdout().abort();
            k.stderr().abort();
            ExecSession.Outcome o = k.outcome().get(ctx.killGrace().toMillis() + ctx.startTimeout().toMillis(), TimeUnit.MILLISECONDS);
            LOG.debug("stopped {} (pid {}) in {}: {}", tool, target, where(), o);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.warn("could not stop {} (pid {}) in {}; it may still be running: {}", tool, target, where(),
                    KubernetesErrors.serverMessage(e));
        } finally {
            if (k != null) {
                k.close();
            }
        }
    }

    private void release() {
        if (released.compareAndSet(false, true)) {
            if (timeout != null) {
                timeout.cancel(false);
            }
            stopping.set(true);
            session.close();
            session.stdout().abort();
            session.stderr().abort();
        }
    }

    @Override
    public void close() {
        if (isAlive()) {
            destroy();
        }
        release();
    }

    /**
     * stdin as frames for the wrapper in the pod. Closing sends the closing frame: that, not the
     * connection, ends the tool's input.
     */
    private final class FramedStdin extends OutputStream {
        private final byte[] frame = new byte[FRAME];
        private int n;
        private boolean closed;

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (closed) {
                throw new IOException("stdin of " + tool + " in " + where() + " is closed");
            }
            while (len > 0) {
                int k = Math.min(len, FRAME - n);
                System.arraycopy(b, off, frame, n, k);
                n += k;
                off += k;
                len -= k;
                if (n == FRAME) {
                    sendFrame();
                }
            }
        }

        @Override
        public void flush() throws IOException {
            if (!closed && n > 0) {
                sendFrame();
            }
        }

        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            if (!isAlive()) {
                if (n > 0) {
                    throw new IOException("Broken pipe: " + tool + " in " + where() + " ended before reading all its input");
                }
                return;
            }
            if (n > 0) {
                sendFrame();
            }
            byte[] end = "0\n".getBytes(StandardCharsets.US_ASCII);
            raw(end, 0, end.length);
        }

        private void sendFrame() throws IOException {
            byte[] head = (n + "\n").getBytes(StandardCharsets.US_ASCII);
            // the length line and the first bytes in one message: fewer, fuller messages
            int first = Math.min(n, WebSockets.PIECE - head.length);
            byte[] msg = new byte[head.length + first];
            System.arraycopy(head, 0, msg, 0, head.length);
            System.arraycopy(frame, 0, msg, head.length, first);
            raw(msg, 0, msg.length);
            if (n > first) {
                raw(frame, first, n - first);
            }
            n = 0;
        }

        private void raw(byte[] b, int off, int len) throws IOException {
            if (!isAlive()) {
                throw new IOException("Broken pipe: " + tool + " in " + where() + " has ended");
            }
            try {
                session.send(b, off, len);
            } catch (IOException e) {
                // a refused write usually means the tool ended and the pod closed the connection: say so, as a local pipe would
                try {
                    session.outcome().get(5, TimeUnit.SECONDS);
                    throw new IOException("Broken pipe: " + tool + " in " + where() + " has ended", e);
                } catch (ExecutionException | TimeoutException notEnded) {
                    throw new IOException("writing to " + tool + " in " + where() + " failed: " + e.getMessage(), e);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted while writing to " + tool);
                }
            }
        }
    }
}
