package io.backupkit.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * A tiny HTTP server (the JDK's own) for processes without a web framework, such as the CLI's
 * {@code schedule} mode: {@code GET /health} answers 200 with the {@link Health} JSON when
 * healthy and 503 with the reasons when not; {@code GET /metrics} answers Prometheus text.
 *
 * <pre>{@code
 * try (OpsHttpServer http = OpsHttpServer.start(new InetSocketAddress(9187), scheduler::health, registry::scrape)) { ... }
 * }</pre>
 */
public final class OpsHttpServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OpsHttpServer.class);
    private final HttpServer server;
    private final ExecutorService executor;

    private OpsHttpServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /**
     * Starts serving.
     *
     * @param health  computes the health for each request
     * @param metrics the Prometheus text for each request, or null for no {@code /metrics}
     */
    public static OpsHttpServer start(InetSocketAddress address, Supplier<Health> health, Supplier<String> metrics) throws IOException {
        Objects.requireNonNull(health, "health");
        HttpServer server = HttpServer.create(address, 16);
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "backupkit-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/health", ex -> handle(ex, () -> {
            Health h = health.get();
            return new Response(h.healthy() ? 200 : 503, "application/json", h.toJson());
        }));
        if (metrics != null) {
            server.createContext("/metrics", ex -> handle(ex, () -> new Response(200, "text/plain; version=0.0.4; charset=utf-8", metrics.get())));
        }
        server.createContext("/", ex -> handle(ex, () -> new Response(404, "text/plain", "not found: try /health"
                + (metrics == null ? "" : " or /metrics") + "\n")));
        server.start();
        return new OpsHttpServer(server, executor);
    }

    private record Response(int status, String type, String body) {
    }

    private static void handle(HttpExchange ex, Supplier<Response> r) throws IOException {
        try (ex) {
            if (!"GET".equals(ex.getRequestMethod()) && !"HEAD".equals(ex.getRequestMethod())) {
                ex.sendResponseHeaders(405, -1);
                return;
            }
            Response resp;
            try {
                resp = r.get();
            } catch (RuntimeException e) {
                LOG.warn("{} failed: {}", ex.getRequestURI().getPath(), e.toString());
                resp = new Response(503, "application/json", "{\"healthy\":false,\"reasons\":[\"" + e.getClass().getSimpleName()
                        + ": " + String.valueOf(e.getMessage()).replace("\\", "\\\\").replace("\"", "'") + "\"]}");
            }
            byte[] body = resp.body().getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", resp.type());
            ex.getResponseHeaders().set("Cache-Control", "no-store");
            boolean head = "HEAD".equals(ex.getRequestMethod());
            ex.sendResponseHeaders(resp.status(), head ? -1 : body.length);
            if (!head) {
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(body);
                }
            }
        }
    }

    /** The port it listens on (useful with port 0). */
    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
