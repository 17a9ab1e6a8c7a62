package io.backupkit.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Just enough of S3 (path-style, one bucket, in memory, no signature check) for {@link CdsTraining} to
 * run the CLI against an {@code s3://} repository, so that the class-data-sharing archive also holds
 * the AWS SDK's and its HTTP client's classes (about 3,300 of them, otherwise loaded from the jar and
 * verified on every S3 call). Not a test double for anything else: the real S3 tests run S3Proxy.
 */
final class TrainingS3 implements AutoCloseable {
    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);
    private static final Pattern KEY = Pattern.compile("<Key>([^<]*)</Key>");
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-(\\d+)");

    private record Stored(byte[] body, Map<String, String> metadata, Instant modified) {
    }

    private final Map<String, Stored> objects = new ConcurrentSkipListMap<>();
    private final HttpServer server;

    TrainingS3() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "cds-training-s3");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/", this::handle);
        server.start();
    }

    /** The endpoint, {@code http://127.0.0.1:port}. */
    String endpoint() {
        return "http://" + server.getAddress().getAddress().getHostAddress() + ":" + server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
    }

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            String path = x.getRequestURI().getRawPath();
            int slash = path.indexOf('/', 1);
            String key = slash < 0 ? "" : URLDecoder.decode(path.substring(slash + 1), StandardCharsets.UTF_8);
            Map<String, String> query = query(x.getRequestURI().getRawQuery());
            byte[] body = body(x);
            switch (x.getRequestMethod()) {
                case "GET" -> {
                    if (key.isEmpty()) {
                        list(x, query.getOrDefault("prefix", ""));
                    } else {
                        get(x, key, true);
                    }
                }
                case "HEAD" -> get(x, key, false);
                case "PUT" -> put(x, key, body);
                case "DELETE" -> {
                    objects.remove(key);
                    x.sendResponseHeaders(204, -1);
                }
                case "POST" -> {
                    Matcher m = KEY.matcher(new String(body, StandardCharsets.UTF_8));
                    while (m.find()) {
                        objects.remove(m.group(1));
                    }
                    xml(x, 200, "<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"></DeleteResult>");
                }
                default -> x.sendResponseHeaders(405, -1);
            }
        }
    }

    private void list(HttpExchange x, String prefix) throws IOException {
        StringBuilder s = new StringBuilder("<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name>")
                .append("<Prefix>").append(prefix).append("</Prefix><IsTruncated>false</IsTruncated>");
        int n = 0;
        for (Map.Entry<String, Stored> e : objects.entrySet()) {
            if (e.getKey().startsWith(prefix)) {
                n++;
                s.append("<Contents><Key>").append(e.getKey()).append("</Key><LastModified>")
                        .append(DateTimeFormatter.ISO_INSTANT.format(e.getValue().modified())).append("</LastModified><ETag>\"")
                        .append(etag(e.getValue())).append("\"</ETag><Size>").append(e.getValue().body().length)
                        .append("</Size><StorageClass>STANDARD</StorageClass></Contents>");
            }
        }
        xml(x, 200, s.append("<KeyCount>").append(n).append("</KeyCount><MaxKeys>1000</MaxKeys></ListBucketResult>").toString());
    }

    private void get(HttpExchange x, String key, boolean withBody) throws IOException {
        Stored o = objects.get(key);
        if (o == null) {
            if (withBody) {
                xml(x, 404, "<Error><Code>NoSuchKey</Code><Message>not found</Message></Error>");
            } else {
                x.sendResponseHeaders(404, -1);
            }
            return;
        }
        int from = 0;
        int to = o.body().length - 1;
        int status = 200;
        String range = x.getRequestHeaders().getFirst("Range");
        Matcher m = range == null ? null : RANGE.matcher(range);
        if (m != null && m.matches()) {
            from = Integer.parseInt(m.group(1));
            to = Math.min(to, Integer.parseInt(m.group(2)));
            status = 206;
            x.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + to + "/" + o.body().length);
        }
        x.getResponseHeaders().set("ETag", "\"" + etag(o) + "\"");
        x.getResponseHeaders().set("Last-Modified", HTTP_DATE.format(o.modified()));
        x.getResponseHeaders().set("Accept-Ranges", "bytes");
        o.metadata().forEach((k, v) -> x.getResponseHeaders().set(k, v));
        int length = to - from + 1;
        if (!withBody) {
            x.getResponseHeaders().set("Content-Length", Integer.toString(o.body().length));
            x.sendResponseHeaders(200, -1);
            return;
        }
        x.sendResponseHeaders(status, length == 0 ? -1 : length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(o.body(), from, length);
        }
    }

    private void put(HttpExchange x, String key, byte[] body) throws IOException {
        Map<String, String> metadata = new HashMap<>();
        x.getRequestHeaders().forEach((k, v) -> {
            if (k.toLowerCase(Locale.ROOT).startsWith("x-amz-meta-")) {
                metadata.put(k.toLowerCase(Locale.ROOT), v.get(0));
            }
        });
        Stored o = new Stored(body, metadata, Instant.now());
        boolean conditional = "*".equals(x.getRequestHeaders().getFirst("If-None-Match"));
        if (!conditional) {
            objects.put(key, o);
        } else if (objects.putIfAbsent(key, o) != null) {
            xml(x, 412, "<Error><Code>PreconditionFailed</Code><Message>exists</Message></Error>");
            return;
        }
        x.getResponseHeaders().set("ETag", "\"" + etag(o) + "\"");
        x.sendResponseHeaders(200, -1);
    }

    private static String etag(Stored o) {
        return Integer.toHexString(java.util.Arrays.hashCode(o.body())) + Long.toHexString(o.body().length);
    }

    private static void xml(HttpExchange x, int status, String doc) throws IOException {
        byte[] b = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + doc).getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", "application/xml");
        x.sendResponseHeaders(status, b.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(b);
        }
    }

    /** The request body, decoded from {@code aws-chunked} (the SDK's streaming uploads with a trailing checksum). */
    private static byte[] body(HttpExchange x) throws IOException {
        byte[] raw;
        try (InputStream in = x.getRequestBody()) {
            raw = in.readAllBytes();
        }
        String encoding = x.getRequestHeaders().getFirst("Content-Encoding");
        String sha = x.getRequestHeaders().getFirst("x-amz-content-sha256");
        boolean chunked = (encoding != null && encoding.contains("aws-chunked")) || (sha != null && sha.startsWith("STREAMING-"));
        if (!chunked) {
            return raw;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(raw.length);
        int p = 0;
        while (p < raw.length) {
            int eol = indexOfCrlf(raw, p);
            if (eol < 0) {
                break;
            }
            String line = new String(raw, p, eol - p, StandardCharsets.US_ASCII);
            int semi = line.indexOf(';');
            int size = Integer.parseInt((semi < 0 ? line : line.substring(0, semi)).strip(), 16);
            if (size == 0) {
                break;
            }
            out.write(raw, eol + 2, size);
            p = eol + 2 + size + 2;
        }
        return out.toByteArray();
    }

    private static int indexOfCrlf(byte[] b, int from) {
        for (int i = from; i + 1 < b.length; i++) {
            if (b[i] == '\r' && b[i + 1] == '\n') {
                return i;
            }
        }
        return -1;
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> q = new HashMap<>();
        if (raw == null) {
            return q;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            q.put(k, eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return q;
    }
}
