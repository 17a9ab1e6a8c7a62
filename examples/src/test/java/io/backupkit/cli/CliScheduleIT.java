package io.backupkit.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code backupkit schedule} end to end, as a separate process against a real PostgreSQL and a local
 * webhook receiver: two cron ticks give two snapshots and two succeeded events; stopping the
 * database gives a failed event and /health 503; SIGTERM exits 0. Real cron minutes: about 3 min.
 */
class CliScheduleIT {
    private static final String PASSWORD = "it-schedule-password";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    static EphemeralPostgres pg;
    @TempDir
    static Path dir;
    static HttpServer receiver;
    static final List<JsonNode> events = Collections.synchronizedList(new ArrayList<>());

    @BeforeAll
    static void start() throws IOException {
        pg = EphemeralPostgres.builder().start();
        pg.createDatabase("shop");
        pg.execute("shop", DemoCommand.sampleSchemaAndData(300));
        receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        receiver.createContext("/hook", ex -> {
            try (InputStream in = ex.getRequestBody()) {
                events.add(MAPPER.readTree(in.readAllBytes()));
            }
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        receiver.start();
    }

    @AfterAll
    static void stop() {
        if (receiver != null) {
            receiver.stop(0);
        }
        if (pg != null) {
            pg.close();
        }
    }

    static Map<String, String> env() {
        Map<String, String> env = new HashMap<>();
        env.put("BACKUPKIT_PASSWORD", PASSWORD);
        env.put("BACKUPKIT_DB_PASSWORD", pg.password());
        return env;
    }

    static List<JsonNode> withStatus(String status) {
        synchronized (events) {
            return events.stream().filter(e -> status.equals(e.path("status").asText())).toList();
        }
    }

    static List<JsonNode> awaitEvents(String status, int n, Duration timeout, Process p) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (withStatus(status).size() < n) {
            if (System.nanoTime() > deadline || !p.isAlive()) {
                fail("waited for " + n + " " + status + " events, got " + events + (p.isAlive() ? "" : "; schedule exited " + p.exitValue()));
            }
            Thread.sleep(200);
        }
        return withStatus(status);
    }

    static HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void scheduleRunsEveryMinuteNotifiesServesHealthAndStopsOnSigterm() throws Exception {
        Path repo = dir.resolve("repo");
        CliProcess.run(env(), "init", "--repo", repo.toString()).expect(0);
        int metricsPort;
        try (ServerSocket s = new ServerSocket(0)) {
            metricsPort = s.getLocalPort();
        }
        String db = "postgresql://" + pg.user() + "@" + pg.host() + ":" + pg.port() + "/shop";
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                CliProcess.JAR.toString(), "schedule", "--repo", repo.toString(), "--db", db, "--cron", "* * * * *",
                "--metrics-port", Integer.toString(metricsPort), "--metrics-address", "127.0.0.1",
                "--notify-webhook", "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook", "--retries", "0", "--jobs", "1"));
        Path out = dir.resolve("schedule.out");
        Path err = dir.resolve("schedule.err");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("BACKUPKIT_") || k.startsWith("PG"));
        pb.environment().putAll(env());
        Process p = pb.start();
        try {
            // two ticks: at most two minutes and a bit
            List<JsonNode> ok = awaitEvents("succeeded", 2, Duration.ofMinutes(3), p);
            Set<String> ids = new HashSet<>();
            for (JsonNode e : ok) {
                assertEquals("backup", e.path("job").asText());
                assertEquals(64, e.path("snapshot").asText().length(), e.toString());
                assertTrue(e.path("error").isNull(), e.toString());
                ids.add(e.path("snapshot").asText());
            }
            assertEquals(2, ids.size(), "two ticks, two different snapshots");
            JsonNode listed = CliProcess.run(env(), "list", "--repo", repo.toString(), "--json").expect(0).json();
            Set<String> listedIds = new HashSet<>();
            listed.path("snapshots").forEach(s -> listedIds.add(s.path("id").asText()));
            assertEquals(ids, listedIds, "exactly the two notified snapshots are listed: " + listed);

            HttpResponse<String> healthy = get(metricsPort, "/health");
            assertEquals(200, healthy.statusCode(), healthy.body());
            HttpResponse<String> metrics = get(metricsPort, "/metrics");
            assertEquals(200, metrics.statusCode());
            assertTrue(metrics.body().contains("backupkit_backup_duration_seconds_count{job=\"backup\",outcome=\"success\"} 2"), metrics.body());
            assertTrue(metrics.body().contains("backupkit_snapshots{source="), metrics.body());

            pg.kill();
            JsonNode failed = awaitEvents("failed", 1, Duration.ofMinutes(2), p).get(0);
            assertTrue(failed.path("snapshot").isNull(), failed.toString());
            assertFalse(failed.path("error").asText().isBlank(), failed.toString());
            HttpResponse<String> unhealthy = get(metricsPort, "/health");
            assertEquals(503, unhealthy.statusCode(), unhealthy.body());
            JsonNode health = MAPPER.readTree(unhealthy.body());
            assertFalse(health.path("healthy").asBoolean());
            assertTrue(health.path("reasons").get(0).asText().contains("failed"), unhealthy.body());
            assertFalse(unhealthy.body().contains(pg.password()), "no secret in /health");

            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(90, TimeUnit.SECONDS), "schedule exits after SIGTERM");
            assertEquals(0, p.exitValue(), () -> "exit code; stderr:\n" + read(err));
            String stdout = read(out);
            assertTrue(stdout.contains("scheduling job backup: cron '* * * * *' (5-field Unix cron"), stdout);
            assertTrue(stdout.contains("stopped"), stdout);
            assertFalse(stdout.contains(pg.password()) || read(err).contains(pg.password()) || stdout.contains(PASSWORD), "no secrets printed");
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly();
            }
            pg.restart();
        }
    }

    static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
