package io.backupkit.k8s.internal;

import io.backupkit.BackupException;
import io.backupkit.k8s.KubernetesException;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.http.WebSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A local TCP port on 127.0.0.1 whose connections reach a port of a pod through the API server
 * (pods/portforward, v4.channel.k8s.io): how the JVM's JDBC connections reach a database that
 * exposes no port. Each accepted connection gets its own websocket. Spoken here rather than with
 * fabric8's LocalPortForward, which sends without waiting for the previous message (the JDK
 * websocket then drops data under load) and cannot say why a connection failed.
 *
 * <p>A failure (403 from RBAC, nothing listening in the pod) is kept: a JDBC error only says the
 * connection closed, {@link #failure()} says why.
 */
public final class PortForwardTunnel implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PortForwardTunnel.class);

    private final KubernetesClient client;
    private final PodResolver.ResolvedPod pod;
    private final int podPort;
    private final Duration timeout;
    private final ServerSocket server;
    private final ExecutorService threads;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicReference<BackupException> failure = new AtomicReference<>();
    private final java.util.Set<Connection> open = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private PortForwardTunnel(KubernetesClient client, PodResolver.ResolvedPod pod, int podPort, Duration timeout) throws IOException {
        this.client = client;
        this.pod = pod;
        this.podPort = podPort;
        this.timeout = timeout;
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        AtomicInteger n = new AtomicInteger();
        this.threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "backupkit-port-forward-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        threads.execute(this::acceptLoop);
    }

    /** Opens the local end; connections are forwarded as they come. */
    public static PortForwardTunnel open(KubernetesClient client, PodResolver.ResolvedPod pod, int podPort, Duration timeout) {
        try {
            return new PortForwardTunnel(client, pod, podPort, timeout);
        } catch (IOException e) {
            throw new KubernetesException("cannot open a local port for forwarding to " + pod.describe() + ": " + e.getMessage(), e);
        }
    }

    /** The local port (on 127.0.0.1). */
    public int localPort() {
        return server.getLocalPort();
    }

    /** Why a forwarded connection failed, if one did. */
    public Optional<BackupException> failure() {
        return Optional.ofNullable(failure.get());
    }

    private void acceptLoop() {
        while (!closed.get()) {
            try {
                Socket s = server.accept();
                s.setTcpNoDelay(true);
                threads.execute(() -> forward(s));
            } catch (IOException e) {
                if (!closed.get()) {
                    LOG.warn("port-forward to {} stopped accepting connections: {}", pod.describe(), e.getMessage());
                }
                return;
            }
        }
    }

    private void forward(Socket socket) {
        Connection c = new Connection(socket);
        open.add(c);
        CompletableFuture<WebSocket> f = client.getHttpClient().newWebSocketBuilder()
                .subprotocol(WebSockets.PROTOCOL)
                .uri(WebSockets.podUri(client, pod.namespace(), pod.pod(), "portforward",
                        List.of(Map.entry("ports", Integer.toString(podPort)))))
                .connectTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                .buildAsync(c);
        WebSocket ws;
        try {
            ws = f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            c.close();
            return;
        } catch (Exception e) {
            fail(KubernetesErrors.translate(e, "create", "pods/portforward", pod.namespace(), "pod " + pod.pod() + " port " + podPort));
            c.close();
            return;
        }
        c.ws = ws;
        // socket -> pod, on this thread; pod -> socket in Connection.onMessage
        byte[] buf = new byte[WebSockets.PIECE];
        try (InputStream in = socket.getInputStream()) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                WebSockets.send(ws, (byte) 0, buf, 0, n, c.done::get);
            }
        } catch (IOException e) {
            LOG.debug("port-forward connection to {} ended: {}", pod.describe(), e.getMessage());
        } finally {
            c.close();
        }
    }

    private void fail(BackupException e) {
        if (failure.compareAndSet(null, e)) {
            // reported to the caller through failure(); logged here only for those who look
            LOG.debug("port-forward to {} port {} failed: {}", pod.describe(), podPort, e.getMessage());
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                server.close();
            } catch (IOException e) {
                // closed
            }
            open.forEach(Connection::close);
            threads.shutdownNow();
        }
    }

    /** One forwarded TCP connection: its socket and its websocket. */
    private final class Connection implements WebSocket.Listener {
        private final Socket socket;
        private final AtomicBoolean done = new AtomicBoolean();
        private final ExecutorService writer;
        private volatile WebSocket ws;
        private int dataMessages;
        private int errorMessages;

        Connection(Socket socket) {
            this.socket = socket;
            this.writer = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "backupkit-port-forward-write");
                t.setDaemon(true);
                return t;
            });
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
            if (channel == 0) {
                if (dataMessages++ == 0) {
                    webSocket.request(); // the first message of each channel names the port
                    return;
                }
                // write on another thread and ask for the next message only then: the pod waits for a slow reader
                byte[] data = new byte[bytes.remaining()];
                bytes.get(data);
                writer.execute(() -> {
                    try {
                        OutputStream os = socket.getOutputStream();
                        os.write(data);
                        os.flush();
                        webSocket.request();
                    } catch (IOException e) {
                        close();
                    }
                });
            } else if (channel == 1) {
                if (errorMessages++ == 0) {
                    webSocket.request();
                    return;
                }
                String message = StandardCharsets.UTF_8.decode(bytes).toString();
                fail(new KubernetesException("port-forward to " + pod.describe() + " port " + podPort + " failed: " + message
                        + " (is the database listening on that port in the pod?)"));
                close();
            } else {
                webSocket.request();
            }
        }

        @Override
        public void onClose(WebSocket webSocket, int code, String reason) {
            if (!done.get() && code != 1000) {
                // not the end of the database connection (the pod closes that with 1000): the stream was dropped
                dropped("the websocket was closed with code " + code + (reason == null || reason.isEmpty() ? "" : " (" + reason + ")"));
            }
            writer.execute(this::close);
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            LOG.debug("port-forward connection to {} failed", pod.describe(), error);
            if (!done.get()) {
                dropped(String.valueOf(error.getMessage() == null ? error.getClass().getSimpleName() : error.getMessage()));
            }
            close();
        }

        /** A JDBC error only says the connection broke; this says where. */
        private void dropped(String how) {
            fail(new KubernetesException("the port-forward connection to " + pod.describe() + " port " + podPort + " was dropped while "
                    + "the database connection through it was in use: " + how + ". The API server or the node ended the stream "
                    + "(restart, timeout, network); nothing was kept of this run, run it again"));
        }

        void close() {
            if (done.compareAndSet(false, true)) {
                open.remove(this);
                WebSocket w = ws;
                if (w != null) {
                    try {
                        w.sendClose(1000, "done");
                    } catch (RuntimeException e) {
                        // closed
                    }
                }
                try {
                    socket.close();
                } catch (IOException e) {
                    // closed
                }
                writer.shutdown();
            }
        }
    }
}
