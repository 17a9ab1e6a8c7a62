package io.backupkit.s3;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback HTTP/1.1 proxy in front of an S3 endpoint that fails a seeded-random share of requests:
 * <ul>
 *   <li>{@link Fault#STATUS_503}: answers 503 ServiceUnavailable without forwarding;</li>
 *   <li>{@link Fault#RESET_BEFORE}: resets the connection (TCP RST) before forwarding;</li>
 *   <li>{@link Fault#RESET_AFTER}: forwards the request, lets the store finish it, then resets the
 *       connection instead of relaying the answer — the write happened but the client never hears so,
 *       the hardest case for "never overwrite" and for multipart completion;</li>
 *   <li>{@link Fault#CUT_RESPONSE}: forwards the request and relays only the first few KiB of the answer,
 *       then resets — for a GET of a large object that breaks the body mid-stream, after the SDK has
 *       handed the stream to the caller.</li>
 * </ul>
 * One request per connection (the proxy asks the store to close after each answer), which keeps it
 * simple and makes every request see a fresh TCP connection, like a flaky network path would.
 * The Host header is forwarded unchanged, so SigV4 signatures made for the proxy's address still verify.
 */
public final class FaultInjectingProxy implements AutoCloseable {
    public enum Fault { NONE, STATUS_503, RESET_BEFORE, RESET_AFTER, CUT_RESPONSE }

    private final int upstreamPort;
    private final Random random;
    private volatile double faultRate;
    private final ServerSocket server;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fault-proxy");
        t.setDaemon(true);
        return t;
    });
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger[] faults = {new AtomicInteger(), new AtomicInteger(), new AtomicInteger(), new AtomicInteger(),
            new AtomicInteger()};
    private final AtomicInteger bodiesCut = new AtomicInteger();

    private final Fault only;

    /** A proxy failing {@code faultRate} of requests with a mix of all faults. */
    public FaultInjectingProxy(int upstreamPort, double faultRate, long seed) throws IOException {
        this(upstreamPort, faultRate, seed, null);
    }

    /** A proxy failing {@code faultRate} of requests, all with fault {@code only} (null: a mix). */
    public FaultInjectingProxy(int upstreamPort, double faultRate, long seed, Fault only) throws IOException {
        this.only = only;
        this.upstreamPort = upstreamPort;
        this.faultRate = faultRate;
        this.random = new Random(seed);
        this.server = new ServerSocket(0, 100, InetAddress.getLoopbackAddress());
        threads.execute(this::acceptLoop);
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getLocalPort());
    }

    public void faultRate(double rate) {
        this.faultRate = rate;
    }

    private volatile boolean rejectConditionalWrites;

    /** Answer 501 NotImplemented to any request with If-None-Match, like stores without conditional writes. */
    public void rejectConditionalWrites(boolean reject) {
        this.rejectConditionalWrites = reject;
    }

    public int requests() {
        return requests.get();
    }

    public int faults(Fault f) {
        return faults[f.ordinal()].get();
    }

    public int faults() {
        return faults(Fault.STATUS_503) + faults(Fault.RESET_BEFORE) + faults(Fault.RESET_AFTER) + faults(Fault.CUT_RESPONSE);
    }

    /** GET answers cut after their headers, while the body streamed. */
    public int bodiesCut() {
        return bodiesCut.get();
    }

    private Fault nextFault() {
        synchronized (random) {
            double r = random.nextDouble();
            if (r >= faultRate) {
                return Fault.NONE;
            }
            double which = random.nextDouble();
            if (only != null) {
                return only;
            }
            return which < 0.35 ? Fault.STATUS_503 : which < 0.6 ? Fault.RESET_BEFORE : which < 0.8 ? Fault.RESET_AFTER
                    : Fault.CUT_RESPONSE;
        }
    }

    private int nextCut() {
        synchronized (random) {
            return 200 + random.nextInt(64 * 1024);
        }
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                threads.execute(() -> handle(client));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void handle(Socket client) {
        try (client) {
            InputStream in = new BufferedInputStream(client.getInputStream(), 65536);
            OutputStream out = client.getOutputStream();
            List<String> head = readHead(in);
            if (head == null) {
                return;
            }
            requests.incrementAndGet();
            Fault fault = nextFault();
            faults[fault.ordinal()].incrementAndGet();
            // fault counters count decisions; a CUT_RESPONSE whose answer fits before the cut does no harm
            long contentLength = 0;
            boolean chunked = false;
            boolean expectContinue = false;
            StringBuilder upstreamHead = new StringBuilder(head.get(0)).append("\r\n");
            for (String h : head.subList(1, head.size())) {
                int colon = h.indexOf(':');
                String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
                String value = h.substring(colon + 1).trim();
                switch (name) {
                    case "content-length" -> contentLength = Long.parseLong(value);
                    case "transfer-encoding" -> chunked = value.toLowerCase(Locale.ROOT).contains("chunked");
                    case "expect" -> expectContinue = value.equalsIgnoreCase("100-continue");
                    default -> { }
                }
                if (!name.equals("connection") && !name.equals("expect") && !name.equals("keep-alive")) {
                    upstreamHead.append(h).append("\r\n");
                }
            }
            upstreamHead.append("Connection: close\r\n\r\n");

            if (rejectConditionalWrites && head.stream().anyMatch(h -> h.toLowerCase(Locale.ROOT).startsWith("if-none-match:"))) {
                if (!expectContinue) {
                    copyBody(in, OutputStream.nullOutputStream(), contentLength, chunked);
                }
                byte[] body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NotImplemented</Code>"
                        + "<Message>A header you provided implies functionality that is not implemented</Message></Error>")
                        .getBytes(StandardCharsets.UTF_8);
                out.write(("HTTP/1.1 501 Not Implemented\r\nContent-Type: application/xml\r\nContent-Length: " + body.length
                        + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();
                return;
            }
            if (fault == Fault.RESET_BEFORE) {
                reset(client);
                return;
            }
            if (fault == Fault.STATUS_503) {
                if (!expectContinue) {
                    copyBody(in, OutputStream.nullOutputStream(), contentLength, chunked);
                }
                byte[] body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>ServiceUnavailable</Code>"
                        + "<Message>injected by FaultInjectingProxy</Message></Error>").getBytes(StandardCharsets.UTF_8);
                out.write(("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\nContent-Length: " + body.length
                        + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();
                return;
            }
            if (expectContinue) {
                out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
            try (Socket upstream = new Socket(InetAddress.getLoopbackAddress(), upstreamPort)) {
                OutputStream up = upstream.getOutputStream();
                up.write(upstreamHead.toString().getBytes(StandardCharsets.ISO_8859_1));
                copyBody(in, up, contentLength, chunked);
                up.flush();
                InputStream answer = upstream.getInputStream();
                if (fault == Fault.RESET_AFTER) {
                    answer.transferTo(OutputStream.nullOutputStream()); // the store has finished the request
                    reset(client);
                    return;
                }
                if (fault == Fault.CUT_RESPONSE) {
                    int cut = nextCut();
                    byte[] first = answer.readNBytes(cut);
                    out.write(first);
                    out.flush();
                    if (answer.read() >= 0) {
                        String text = new String(first, StandardCharsets.ISO_8859_1);
                        int headEnd = text.indexOf("\r\n\r\n");
                        if (head.get(0).startsWith("GET ") && headEnd >= 0 && headEnd + 4 < first.length) {
                            bodiesCut.incrementAndGet();
                        }
                        reset(client);
                        return;
                    }
                    return; // the whole answer fit before the cut
                }
                answer.transferTo(out);
                out.flush();
            }
        } catch (IOException ignored) {
            // the client gave up or was reset on purpose
        }
    }

    private static void reset(Socket s) throws IOException {
        s.setSoLinger(true, 0);
        s.close();
    }

    /** Reads a request head up to the empty line; null at end of stream. */
    private static List<String> readHead(InputStream in) throws IOException {
        List<String> lines = new ArrayList<>();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int prev = -1;
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n' && prev == '\r') {
                byte[] b = line.toByteArray();
                String s = new String(b, 0, b.length - 1, StandardCharsets.ISO_8859_1);
                if (s.isEmpty()) {
                    return lines.isEmpty() ? null : lines;
                }
                lines.add(s);
                line.reset();
            } else {
                line.write(c);
            }
            prev = c;
        }
        return null;
    }

    private static void copyBody(InputStream in, OutputStream out, long contentLength, boolean chunked) throws IOException {
        if (!chunked) {
            byte[] buf = new byte[65536];
            long left = contentLength;
            while (left > 0) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) {
                    throw new IOException("client closed mid-body");
                }
                out.write(buf, 0, n);
                left -= n;
            }
            return;
        }
        // Transfer-Encoding: chunked, relayed verbatim: size line, data, CRLF ... 0, trailers, CRLF
        while (true) {
            String sizeLine = readLine(in, out);
            int semi = sizeLine.indexOf(';');
            long size = Long.parseLong((semi < 0 ? sizeLine : sizeLine.substring(0, semi)).trim(), 16);
            if (size == 0) {
                while (!readLine(in, out).isEmpty()) {
                    // trailers
                }
                return;
            }
            copyBody(in, out, size + 2, false);
        }
    }

    private static String readLine(InputStream in, OutputStream copy) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int prev = -1;
        int c;
        while ((c = in.read()) >= 0) {
            copy.write(c);
            if (c == '\n' && prev == '\r') {
                byte[] b = line.toByteArray();
                return new String(b, 0, b.length - 1, StandardCharsets.ISO_8859_1);
            }
            line.write(c);
            prev = c;
        }
        throw new IOException("client closed mid-chunk");
    }

    @Override
    public void close() throws IOException {
        server.close();
        threads.shutdownNow();
    }
}
