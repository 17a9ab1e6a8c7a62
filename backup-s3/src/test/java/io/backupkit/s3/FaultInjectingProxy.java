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

    /**
     * How the proxy answers a resumed read (a GET carrying both {@code Range} and {@code If-Match}, as
     * {@code S3Storage} sends after a body broke): forwarded, or made up from the bytes of the first
     * read of the same object, the way a broken store or proxy might answer.
     */
    public enum ResumeAnswer {
        /** Forward to the store. */
        FORWARD,
        /** 206 with bytes (and an honest Content-Range) from where the first read started, not where asked. */
        OTHER_RANGE,
        /** 206 with the Content-Range asked for, but one byte of the body flipped. */
        WRONG_BYTES,
        /** 200 with the whole object, as a store that ignores Range. */
        WHOLE_OBJECT,
        /** 206 ending early, with a Content-Range and length that say so. */
        SHORT,
        /** 206 with the Content-Range asked for, but a longer body (and Content-Length) than that range. */
        LONG
    }

    private volatile int cutFirstReadsAfter = -1;
    private volatile ResumeAnswer resumeAnswer = ResumeAnswer.FORWARD;
    private final AtomicInteger resumes = new AtomicInteger();
    private final java.util.Map<String, Cached> firstReads = new java.util.concurrent.ConcurrentHashMap<>();

    private record Cached(long start, long total, String etag, byte[] body) {
    }

    /**
     * Cuts every read that is not a resume (a GET without {@code If-Match}) after {@code bodyBytes} bytes
     * of its body, remembering the whole body for {@link #answerResumes}; -1 turns it off.
     */
    public void cutFirstReadsAfter(int bodyBytes) {
        this.cutFirstReadsAfter = bodyBytes;
    }

    private volatile boolean flipFirstReads;

    /** Flips one byte in the body of every read that is not a resume (headers untouched): damage in transit. */
    public void flipByteInFirstReads(boolean flip) {
        this.flipFirstReads = flip;
    }

    /** How resumed reads are answered from now on. */
    public void answerResumes(ResumeAnswer answer) {
        this.resumeAnswer = answer;
    }

    /** Resumed reads seen (GETs with Range and If-Match). */
    public int resumes() {
        return resumes.get();
    }

    private volatile boolean ignoreConditionalWrites;

    /**
     * Drops {@code If-None-Match} from every request before forwarding it, like a store that ignores the
     * header and overwrites. Only for a store that does not check signatures (the header is signed):
     * {@code new S3ProxyFixture().withoutAuthentication()}.
     */
    public void ignoreConditionalWrites(boolean ignore) {
        this.ignoreConditionalWrites = ignore;
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
                boolean dropped = ignoreConditionalWrites && name.equals("if-none-match");
                if (!name.equals("connection") && !name.equals("expect") && !name.equals("keep-alive") && !dropped) {
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
            boolean get = head.get(0).startsWith("GET ");
            String target = head.get(0).split(" ")[1];
            String path = target.contains("?") ? target.substring(0, target.indexOf('?')) : target;
            boolean ranged = header(head, "range") != null;
            boolean resume = get && ranged && header(head, "if-match") != null;
            if (resume) {
                resumes.incrementAndGet();
                Cached cached = firstReads.get(path);
                if (resumeAnswer != ResumeAnswer.FORWARD && cached != null) {
                    answerResume(out, header(head, "range"), cached);
                    return;
                }
            }
            if (get && !resume && (cutFirstReadsAfter >= 0 || flipFirstReads) && fault == Fault.NONE) {
                if (expectContinue) {
                    out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                }
                cutFirstRead(client, out, upstreamHead.toString(), path);
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

    /** Forwards a first read, remembers its whole body, relays only the head and the first bytes, then resets. */
    private void cutFirstRead(Socket client, OutputStream out, String upstreamHead, String path) throws IOException {
        try (Socket upstream = new Socket(InetAddress.getLoopbackAddress(), upstreamPort)) {
            upstream.getOutputStream().write(upstreamHead.getBytes(StandardCharsets.ISO_8859_1));
            upstream.getOutputStream().flush();
            InputStream answer = new BufferedInputStream(upstream.getInputStream());
            List<String> head = readHead(answer);
            if (head == null) {
                reset(client);
                return;
            }
            String length = header(head, "content-length");
            byte[] body = length == null ? answer.readAllBytes() : answer.readNBytes(Integer.parseInt(length));
            int status = Integer.parseInt(head.get(0).split(" ")[1]);
            if (status == 200 || status == 206) {
                String range = header(head, "content-range");
                long start = 0;
                long total = body.length;
                if (range != null) {
                    String spec = range.substring(range.indexOf(' ') + 1);
                    start = Long.parseLong(spec.substring(0, spec.indexOf('-')));
                    total = Long.parseLong(spec.substring(spec.indexOf('/') + 1));
                }
                firstReads.put(path, new Cached(start, total, header(head, "etag"), body));
            }
            StringBuilder h = new StringBuilder();
            head.forEach(l -> h.append(l).append("\r\n"));
            out.write(h.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
            if (flipFirstReads && status < 300 && body.length > 0) {
                body = body.clone();
                body[body.length / 3] ^= 0x01;
            }
            if (cutFirstReadsAfter < 0 || body.length <= cutFirstReadsAfter || status >= 300) {
                out.write(body);
                out.flush();
                return;
            }
            out.write(body, 0, cutFirstReadsAfter);
            out.flush();
            bodiesCut.incrementAndGet();
            reset(client);
        }
    }

    /** Answers a resumed read from the remembered first read, the way {@link #resumeAnswer} says. */
    private void answerResume(OutputStream out, String rangeHeader, Cached c) throws IOException {
        String spec = rangeHeader.substring(rangeHeader.indexOf('=') + 1);
        long from = Long.parseLong(spec.substring(0, spec.indexOf('-')));
        long to = Long.parseLong(spec.substring(spec.indexOf('-') + 1));
        int n = (int) (to - from + 1);
        int at = (int) (from - c.start());
        byte[] body;
        String status = "206 Partial Content";
        String contentRange;
        switch (resumeAnswer) {
            case OTHER_RANGE -> {
                body = java.util.Arrays.copyOfRange(c.body(), 0, n);
                contentRange = "bytes " + c.start() + "-" + (c.start() + n - 1) + "/" + c.total();
            }
            case WRONG_BYTES -> {
                body = java.util.Arrays.copyOfRange(c.body(), at, at + n);
                body[n / 2] ^= 0x20;
                contentRange = "bytes " + from + "-" + to + "/" + c.total();
            }
            case WHOLE_OBJECT -> {
                body = c.body();
                status = "200 OK";
                contentRange = null;
            }
            case SHORT -> {
                int k = Math.max(1, Math.min(100, n / 2));
                body = java.util.Arrays.copyOfRange(c.body(), at, at + n - k);
                contentRange = "bytes " + from + "-" + (to - k) + "/" + c.total();
            }
            case LONG -> {
                body = java.util.Arrays.copyOf(java.util.Arrays.copyOfRange(c.body(), at, at + n), n + 100);
                contentRange = "bytes " + from + "-" + to + "/" + c.total();
            }
            default -> throw new IllegalStateException(resumeAnswer.name());
        }
        StringBuilder h = new StringBuilder("HTTP/1.1 ").append(status).append("\r\n")
                .append("Content-Type: application/octet-stream\r\n")
                .append("Accept-Ranges: bytes\r\n")
                .append("Content-Length: ").append(body.length).append("\r\n")
                .append("Connection: close\r\n");
        if (c.etag() != null) {
            h.append("ETag: ").append(c.etag()).append("\r\n");
        }
        if (contentRange != null) {
            h.append("Content-Range: ").append(contentRange).append("\r\n");
        }
        out.write(h.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
    }

    /** The value of a header (name in lower case), or null. */
    private static String header(List<String> head, String name) {
        for (String h : head.subList(1, head.size())) {
            int colon = h.indexOf(':');
            if (colon > 0 && h.substring(0, colon).trim().equalsIgnoreCase(name)) {
                return h.substring(colon + 1).trim();
            }
        }
        return null;
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
