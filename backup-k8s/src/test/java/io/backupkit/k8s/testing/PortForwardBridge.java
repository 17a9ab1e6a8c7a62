package io.backupkit.k8s.testing;

import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * One port-forward connection of the {@link FakeCluster}: like a kubelet, first sends the port on
 * the data and error channels, then relays channel 0 to and from a local TCP port; a refused
 * connection is reported on the error channel.
 */
final class PortForwardBridge extends WebSocketListener {
    private static final byte[] EOF = new byte[0];
    private final int podPort;
    private final int localPort;
    private final String pod;
    private final BlockingQueue<byte[]> toServer = new LinkedBlockingQueue<>();
    private volatile Socket socket;
    private volatile WebSocket ws;

    private final java.util.Set<PortForwardBridge> registry;
    private final java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();

    PortForwardBridge(int podPort, int localPort, String pod, java.util.Set<PortForwardBridge> registry) {
        this.podPort = podPort;
        this.localPort = localPort;
        this.pod = pod;
        this.registry = registry;
    }

    /** Drops this connection as a failing node would: both ends closed, no orderly end; false if it had ended already. */
    boolean cut() {
        if (ended.getAndSet(true)) {
            return false;
        }
        registry.remove(this);
        WebSocket w = ws;
        gone();
        if (w != null) {
            w.close(1011, "connection reset by the node");
        }
        return true;
    }

    @Override
    public void onOpen(WebSocket webSocket, Response response) {
        this.ws = webSocket;
        registry.add(this);
        Thread t = new Thread(this::run, "fake-kubelet-portforward");
        t.setDaemon(true);
        t.start();
    }

    private void run() {
        byte lo = (byte) (podPort & 0xff);
        byte hi = (byte) (podPort >> 8);
        ws.send(new byte[] {0, lo, hi});
        ws.send(new byte[] {1, lo, hi});
        try {
            socket = new Socket(InetAddress.getLoopbackAddress(), localPort);
        } catch (IOException e) {
            byte[] m = ("error forwarding port " + podPort + " to " + pod + ": dial tcp4 127.0.0.1:" + podPort + ": connect: connection refused")
                    .getBytes(StandardCharsets.UTF_8);
            byte[] msg = new byte[m.length + 1];
            msg[0] = 1;
            System.arraycopy(m, 0, msg, 1, m.length);
            ws.send(msg);
            ws.close(1000, "");
            return;
        }
        Thread writer = new Thread(() -> {
            try (OutputStream os = socket.getOutputStream()) {
                while (true) {
                    byte[] b = toServer.take();
                    if (b == EOF) {
                        return;
                    }
                    os.write(b);
                    os.flush();
                }
            } catch (IOException | InterruptedException e) {
                // closed
            }
        }, "fake-kubelet-portforward-in");
        writer.setDaemon(true);
        writer.start();
        byte[] buf = new byte[32 * 1024];
        try (InputStream is = socket.getInputStream()) {
            int n;
            while ((n = is.read(buf)) >= 0) {
                byte[] msg = new byte[n + 1];
                System.arraycopy(buf, 0, msg, 1, n);
                ws.send(msg);
            }
        } catch (IOException e) {
            // closed
        }
        ws.close(1000, "");
        toServer.add(EOF);
    }

    @Override
    public void onMessage(WebSocket webSocket, byte[] bytes) {
        if (bytes.length > 1 && bytes[0] == 0) {
            toServer.add(Arrays.copyOfRange(bytes, 1, bytes.length));
        }
    }

    @Override
    public void onMessage(WebSocket webSocket, String text) {
        onMessage(webSocket, text.getBytes(StandardCharsets.UTF_8));
    }

    private void gone() {
        registry.remove(this);
        toServer.add(EOF);
        Socket s = socket;
        if (s != null) {
            try {
                s.close();
            } catch (IOException e) {
                // closed
            }
        }
    }

    @Override
    public void onClosing(WebSocket webSocket, int code, String reason) {
        gone();
    }

    @Override
    public void onClosed(WebSocket webSocket, int code, String reason) {
        gone();
    }

    @Override
    public void onFailure(WebSocket webSocket, Throwable error, Response response) {
        gone();
    }
}
