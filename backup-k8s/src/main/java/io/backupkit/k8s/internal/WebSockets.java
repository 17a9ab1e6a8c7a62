package io.backupkit.k8s.internal;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.http.WebSocket;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Helpers for the channel websockets (exec, port-forward) of the Kubernetes API. */
final class WebSockets {
    /** The API server's streaming protocol: one leading byte per message names the channel. */
    static final String PROTOCOL = "v4.channel.k8s.io";
    /** Largest websocket message sent: API servers accept far more, test servers 64 KiB. */
    static final int PIECE = 32 * 1024;

    private WebSockets() {
    }

    /** {@code <master>/api/v1/namespaces/<ns>/pods/<pod>/<sub>?<query>} */
    static URI podUri(KubernetesClient client, String namespace, String pod, String sub, List<Map.Entry<String, String>> query) {
        StringBuilder sb = new StringBuilder(client.getMasterUrl().toString());
        if (sb.charAt(sb.length() - 1) != '/') {
            sb.append('/');
        }
        sb.append("api/v1/namespaces/").append(encode(namespace)).append("/pods/").append(encode(pod)).append('/').append(sub);
        String sep = "?";
        for (Map.Entry<String, String> e : query) {
            sb.append(sep).append(encode(e.getKey())).append('=').append(encode(e.getValue()));
            sep = "&";
        }
        return URI.create(sb.toString());
    }

    static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /**
     * Sends {@code b[off, off+len)} on {@code channel}, at most {@link #PIECE} bytes a message, each
     * only once the previous one left: the JDK's websocket fails a send while another is pending
     * ("Send pending"), and waiting for it is also what keeps memory bounded.
     */
    static void send(WebSocket ws, byte channel, byte[] b, int off, int len, BooleanSupplier closed) throws IOException {
        while (len > 0) {
            int n = Math.min(PIECE, len);
            byte[] msg = new byte[n + 1];
            msg[0] = channel;
            System.arraycopy(b, off, msg, 1, n);
            awaitIdle(ws, closed);
            if (!ws.send(ByteBuffer.wrap(msg))) {
                throw new IOException("the connection refused the write");
            }
            off += n;
            len -= n;
        }
    }

    private static void awaitIdle(WebSocket ws, BooleanSupplier closed) throws IOException {
        long pause = 20_000;
        while (ws.queueSize() > 0) {
            if (closed.getAsBoolean()) {
                throw new IOException("the connection closed");
            }
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while sending");
            }
            LockSupport.parkNanos(pause);
            pause = Math.min(pause * 2, 5_000_000);
        }
        if (closed.getAsBoolean()) {
            throw new IOException("the connection closed");
        }
    }
}
