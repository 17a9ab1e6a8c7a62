package io.backupkit.s3;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A loopback HTTP forward proxy, as a client configured with {@code http.proxyHost} talks to: a request in absolute
 * form ({@code GET http://host:port/path HTTP/1.1}) goes to that host and port, a {@code CONNECT host:port} opens a
 * tunnel there (for {@code https}); after the first line (and CONNECT's headers) the bytes are relayed unchanged both
 * ways. It records the first line of every connection, so a test can tell that requests went through it and how.
 */
final class ForwardProxy implements AutoCloseable {
    private final ServerSocket server;
    private final List<String> firstLines = new CopyOnWriteArrayList<>();
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "forward-proxy");
        t.setDaemon(true);
        return t;
    });

    ForwardProxy() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.execute(this::acceptLoop);
    }

    int port() {
        return server.getLocalPort();
    }

    /** The first line of every connection so far ("PUT http://127.0.0.1:…/bucket/key HTTP/1.1", "CONNECT 127.0.0.1:… HTTP/1.1"). */
    List<String> firstLines() {
        return List.copyOf(firstLines);
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                threads.execute(() -> serve(client));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket client) {
        try (client) {
            InputStream in = client.getInputStream();
            OutputStream out = client.getOutputStream();
            String first = readLine(in);
            if (first == null) {
                return;
            }
            firstLines.add(first);
            String[] parts = first.split(" ");
            boolean connect = parts[0].equals("CONNECT");
            URI target = URI.create(connect ? "//" + parts[1] : parts[1]);
            try (Socket upstream = new Socket(target.getHost(), target.getPort())) {
                if (connect) {
                    for (String header = readLine(in); header != null && !header.isEmpty(); header = readLine(in)) {
                        // CONNECT's own headers end at the blank line; what follows is the tunnel's
                    }
                    out.write("HTTP/1.1 200 Connection established\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } else {
                    // the origin server takes the absolute form as it is (RFC 9112, 3.2.2)
                    upstream.getOutputStream().write((first + "\r\n").getBytes(StandardCharsets.US_ASCII));
                }
                threads.execute(() -> relay(in, upstream));
                relay(upstream.getInputStream(), client);
            }
        } catch (IOException e) {
            // the client or the store closed the connection
        }
    }

    private static void relay(InputStream from, Socket to) {
        try {
            from.transferTo(to.getOutputStream());
            to.shutdownOutput();
        } catch (IOException e) {
            // either side went away: the other side's relay ends too
        }
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != -1; b = in.read()) {
            if (b == '\n') {
                return line.toString(StandardCharsets.US_ASCII).stripTrailing();
            }
            line.write(b);
        }
        return line.size() == 0 ? null : line.toString(StandardCharsets.US_ASCII);
    }

    @Override
    public void close() throws IOException {
        server.close();
        threads.shutdownNow();
    }
}
