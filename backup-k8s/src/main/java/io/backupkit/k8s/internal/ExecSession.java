package io.backupkit.k8s.internal;

import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.internal.ExecWebSocketListener;
import io.fabric8.kubernetes.client.http.WebSocket;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One exec connection (v4.channel.k8s.io): channel 0 stdin, 1 stdout, 2 stderr, 3 the exit status.
 * Spoken here rather than through fabric8's ExecWatch because that one sends stdin without waiting
 * for the previous message, which the JDK websocket rejects under load, and gives no control over
 * reading: here the next message is requested only when the consumer has room for it.
 */
public final class ExecSession implements WebSocket.Listener {
    private final KubernetesClient client;
    private final BoundedPipe out;
    private final BoundedPipe err;
    private final ByteArrayOutputStream status = new ByteArrayOutputStream();
    private final CompletableFuture<Outcome> outcome = new CompletableFuture<>();
    private final AtomicBoolean closing = new AtomicBoolean();
    private volatile WebSocket ws;

    /**
     * How the command ended.
     *
     * @param exitCode the exit status, or null when none is known
     * @param failure  why none is known (connection lost, the runtime could not start the command)
     * @param lost     true when the connection ended without any status
     */
    public record Outcome(Integer exitCode, String failure, boolean lost) {
    }

    private ExecSession(KubernetesClient client, long pipeCapacity) {
        this.client = client;
        this.out = new BoundedPipe(pipeCapacity);
        this.err = new BoundedPipe(pipeCapacity);
    }

    /**
     * Opens an exec of {@code command} in the pod.
     *
     * @throws java.util.concurrent.CompletionException and the like, from the websocket handshake
     *         (403: RBAC; translate with {@link KubernetesErrors})
     */
    public static ExecSession open(KubernetesClient client, PodResolver.ResolvedPod pod, List<String> command, boolean stdin,
                                   long pipeCapacity, Duration timeout) throws Exception {
        List<Map.Entry<String, String>> q = new ArrayList<>();
        for (String c : command) {
            q.add(new AbstractMap.SimpleEntry<>("command", c));
        }
        q.add(new AbstractMap.SimpleEntry<>("container", pod.container()));
        q.add(new AbstractMap.SimpleEntry<>("stdin", Boolean.toString(stdin)));
        q.add(new AbstractMap.SimpleEntry<>("stdout", "true"));
        q.add(new AbstractMap.SimpleEntry<>("stderr", "true"));
        ExecSession s = new ExecSession(client, pipeCapacity);
        CompletableFuture<WebSocket> f = client.getHttpClient().newWebSocketBuilder()
                .subprotocol(WebSockets.PROTOCOL)
                .uri(WebSockets.podUri(client, pod.namespace(), pod.pod(), "exec", q))
                .connectTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .buildAsync(s);
        try {
            s.ws = f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception c ? c : e;
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new IOException("no exec connection to " + pod.describe() + " within " + timeout.toSeconds() + " s", e);
        }
        return s;
    }

    public BoundedPipe stdout() {
        return out;
    }

    public BoundedPipe stderr() {
        return err;
    }

    public CompletableFuture<Outcome> outcome() {
        return outcome;
    }

    public boolean ended() {
        return outcome.isDone();
    }

    /** Sends stdin bytes; blocks while the previous message has not left. */
    public void send(byte[] b, int off, int len) throws IOException {
        WebSockets.send(ws, (byte) 0, b, off, len, () -> outcome.isDone() || closing.get());
    }

    /** Closes the connection (the remote process is not stopped by this). */
    public void close() {
        if (closing.compareAndSet(false, true)) {
            WebSocket w = ws;
            if (w != null) {
                try {
                    w.sendClose(1000, "done");
                } catch (RuntimeException e) {
                    // already closed
                }
            }
            end(new Outcome(null, "the connection was closed by backupkit", true));
        }
    }

    @Override
    public void onOpen(WebSocket webSocket) {
        this.ws = webSocket;
    }

    @Override
    public void onMessage(WebSocket webSocket, String text) {
        onMessage(webSocket, ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
    }

    @Override
    public void onMessage(WebSocket webSocket, ByteBuffer bytes) {
        if (!bytes.hasRemaining()) {
            webSocket.request();
            return;
        }
        byte channel = bytes.get();
        switch (channel) {
            case 1 -> {
                out.append(bytes);
                out.whenRoom(webSocket::request);
            }
            case 2 -> {
                err.append(bytes);
                err.whenRoom(webSocket::request);
            }
            case 3 -> {
                byte[] b = new byte[bytes.remaining()];
                bytes.get(b);
                status.write(b, 0, b.length);
                statusArrived();
                webSocket.request();
            }
            default -> webSocket.request();
        }
    }

    private void statusArrived() {
        String json = status.toString(StandardCharsets.UTF_8);
        Status s;
        try {
            s = client.getKubernetesSerialization().unmarshal(json, Status.class);
        } catch (RuntimeException e) {
            return; // not all of it yet
        }
        int code = ExecWebSocketListener.parseExitCode(s);
        if (code >= 0) {
            end(new Outcome(code, null, false));
        } else {
            end(new Outcome(null, s.getMessage() != null ? s.getMessage() : "the container runtime reported " + s.getReason(), false));
        }
    }

    @Override
    public void onClose(WebSocket webSocket, int code, String reason) {
        try {
            webSocket.sendClose(1000, "");
        } catch (RuntimeException e) {
            // already closed
        }
        end(new Outcome(null, "the exec connection closed before the command ended (exit status unknown; code " + code
                + (reason == null || reason.isBlank() ? "" : ", " + reason) + ")", true));
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        end(new Outcome(null, "the exec connection failed: " + KubernetesErrors.serverMessage(error), true));
    }

    private synchronized void end(Outcome o) {
        if (outcome.isDone()) {
            return;
        }
        if (o.failure() != null) {
            IOException e = new IOException(o.failure());
            out.fail(e);
            err.fail(e);
        } else {
            out.finish();
            err.finish();
        }
        outcome.complete(o);
    }
}
