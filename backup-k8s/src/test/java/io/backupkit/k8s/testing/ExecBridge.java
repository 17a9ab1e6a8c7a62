package io.backupkit.k8s.testing;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One exec connection of the {@link FakeCluster}: runs the command as a local process and speaks
 * v4.channel.k8s.io like a kubelet: channel 0 stdin, 1 stdout, 2 stderr, 3 the exit status as a
 * Status object, then a normal close. When the client goes away, the process loses its stdin and
 * its output (so it ends on EOF or SIGPIPE, as in a container); it is not killed.
 */
final class ExecBridge extends WebSocketListener {
    private static final byte[] EOF = new byte[0];
    private static final int CHUNK = 32 * 1024;

    private final List<String> command;
    private final String path;
    private final FakeCluster.Fault fault;
    private final BlockingQueue<byte[]> stdin = new LinkedBlockingQueue<>();
    private final AtomicBoolean gone = new AtomicBoolean();
    private final AtomicLong stdoutSent = new AtomicLong();
    private final AtomicLong stdinReceived = new AtomicLong();
    private volatile Process process;
    private volatile WebSocket ws;

    ExecBridge(List<String> command, String path, FakeCluster.Fault fault) {
        this.command = List.copyOf(command);
        this.path = path;
        this.fault = fault;
    }

    @Override
    public void onOpen(WebSocket webSocket, Response response) {
        this.ws = webSocket;
        Thread t = new Thread(this::run, "fake-kubelet-exec");
        t.setDaemon(true);
        t.start();
    }

    private void run() {
        ProcessBuilder pb = new ProcessBuilder(command);
        Map<String, String> env = pb.environment();
        env.put("PATH", path);
        try {
            process = pb.start();
        } catch (IOException e) {
            sendStatus("{\"metadata\":{},\"status\":\"Failure\",\"message\":" + Serialization.asJson("OCI runtime exec failed: exec failed: "
                    + "unable to start container process: exec: \"" + command.get(0) + "\": executable file not found in $PATH: unknown")
                    + ",\"reason\":\"InternalError\",\"details\":{\"causes\":[{\"message\":\"not found\"}]},\"code\":500}");
            ws.close(1000, "");
            return;
        }
        Thread in = daemon("fake-kubelet-stdin", this::pumpStdin);
        CountDownLatch outputs = new CountDownLatch(2);
        daemon("fake-kubelet-stdout", () -> pumpOutput(process.getInputStream(), (byte) 1, outputs));
        daemon("fake-kubelet-stderr", () -> pumpOutput(process.getErrorStream(), (byte) 2, outputs));
        try {
            int exit = process.waitFor();
            outputs.await();
            if (gone.get()) {
                return;
            }
            if (exit == 0) {
                sendStatus("{\"metadata\":{},\"status\":\"Success\"}");
            } else {
                sendStatus("{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated with non-zero exit code: error "
                        + "executing command, exit code " + exit + "\",\"reason\":\"NonZeroExitCode\",\"details\":{\"causes\":"
                        + "[{\"reason\":\"ExitCode\",\"message\":\"" + exit + "\"}]}}");
            }
            ws.close(1000, "");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            stdin.add(EOF);
            in.interrupt();
        }
    }

    private static Thread daemon(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private void pumpStdin() {
        try (OutputStream os = process.getOutputStream()) {
            while (true) {
                byte[] b = stdin.take();
                if (b == EOF) {
                    return;
                }
                os.write(b);
                os.flush();
            }
        } catch (IOException | InterruptedException e) {
            // the process closed its stdin or ended
        }
    }

    private void pumpOutput(InputStream is, byte channel, CountDownLatch done) {
        byte[] buf = new byte[CHUNK];
        try (is) {
            int n;
            while ((n = is.read(buf)) >= 0) {
                if (gone.get()) {
                    return; // the process sees its output closed
                }
                byte[] msg = new byte[n + 1];
                msg[0] = channel;
                System.arraycopy(buf, 0, msg, 1, n);
                ws.send(msg);
                if (channel == 1 && fault != null && fault.afterStdoutBytes() >= 0
                        && stdoutSent.addAndGet(n) >= fault.afterStdoutBytes()) {
                    drop();
                    return;
                }
            }
        } catch (IOException e) {
            // process ended
        } finally {
            done.countDown();
        }
    }

    private void sendStatus(String json) {
        byte[] s = json.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] msg = new byte[s.length + 1];
        msg[0] = 3;
        System.arraycopy(s, 0, msg, 1, s.length);
        ws.send(msg);
    }

    /** The connection breaks: no status, the process loses stdin and output. */
    private void drop() {
        if (gone.compareAndSet(false, true)) {
            ws.close(1011, "stream reset");
            clientGone();
        }
    }

    private void clientGone() {
        gone.set(true);
        stdin.add(EOF);
        Process p = process;
        if (p != null) {
            try {
                p.getInputStream().close();
                p.getErrorStream().close();
            } catch (IOException e) {
                // already closed
            }
        }
    }

    @Override
    public void onMessage(WebSocket webSocket, byte[] bytes) {
        if (bytes.length > 1 && bytes[0] == 0 && !gone.get()) {
            byte[] data = java.util.Arrays.copyOfRange(bytes, 1, bytes.length);
            stdin.add(data);
            if (fault != null && fault.afterStdinBytes() >= 0 && stdinReceived.addAndGet(data.length) >= fault.afterStdinBytes()) {
                Thread t = new Thread(this::drop, "fake-kubelet-drop");
                t.setDaemon(true);
                t.start();
            }
        }
    }

    @Override
    public void onMessage(WebSocket webSocket, String text) {
        onMessage(webSocket, text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Override
    public void onClosing(WebSocket webSocket, int code, String reason) {
        clientGone();
    }

    @Override
    public void onClosed(WebSocket webSocket, int code, String reason) {
        clientGone();
    }

    @Override
    public void onFailure(WebSocket webSocket, Throwable error, Response response) {
        clientGone();
    }
}
