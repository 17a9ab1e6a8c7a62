package io.backupkit.ops;

import io.backupkit.Repository;
import io.backupkit.ops.OpsFixtures.Events;
import io.backupkit.ops.OpsFixtures.SteeredSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.backupkit.ops.OpsFixtures.backups;
import static io.backupkit.ops.OpsFixtures.runUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Metrics asserted from a real Micrometer registry and from scraped Prometheus text; /health over HTTP. */
class MetricsTest {
    @TempDir
    Path dir;

    static double value(String text, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(text);
        assertTrue(m.find(), "no line '" + series + " …' in:\n" + text);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void scheduledRunsShowUpInTheRegistryAndInTheScrapedText() throws Exception {
        ManualClock clock = new ManualClock(Instant.parse("2026-05-01T09:59:00Z"));
        PrometheusMeterRegistry prometheus = PrometheusText.registry();
        SimpleMeterRegistry simple = new SimpleMeterRegistry();
        try (Repository repo = OpsFixtures.repository(dir); WebhookReceiver receiver = new WebhookReceiver()) {
            receiver.status = 500;
            WebhookNotifier hook = WebhookNotifier.builder().url(receiver.url("/h")).retries(0, Duration.ZERO).build();
            MicrometerMetrics live = new MicrometerMetrics(prometheus).bindNotifier(hook);
            MicrometerMetrics liveSimple = new MicrometerMetrics(simple);
            SteeredSource source = new SteeredSource(clock, "ok", "fail", "ok");
            BackupScheduler s = BackupScheduler.builder().repository(repo).clock(clock).healthCheckEvery(Duration.ofHours(1))
                    .listener(live).listener(liveSimple).listener(hook).listener(new Events())
                    .job(ScheduledJob.backup("hourly", backups(repo, source)).schedule(Schedule.cron("0 * * * *", ZoneId.of("UTC"))).build())
                    .build();
            live.bindScheduler(s);
            s.start();
            runUntil(clock, s, Instant.parse("2026-05-01T12:30:00Z"));
            assertTrue(hook.flush(Duration.ofSeconds(30)));

            assertEquals(2, simple.get("backupkit.backup.duration").tag("job", "hourly").tag("outcome", "success").timer().count());
            assertEquals(1, simple.get("backupkit.backup.duration").tag("outcome", "failure").timer().count());
            assertEquals(2 * 1007, simple.get("backupkit.backup.read").tag("job", "hourly").counter().count());
            assertEquals(Instant.parse("2026-05-01T12:00:00Z").getEpochSecond(),
                    simple.get("backupkit.job.last.success.timestamp").gauge().value());
            assertEquals(0, simple.get("backupkit.runs.active").gauge().value());

            String text = prometheus.scrape();
            assertEquals(2, value(text, "backupkit_backup_duration_seconds_count{job=\"hourly\",outcome=\"success\"}"));
            assertEquals(1, value(text, "backupkit_backup_duration_seconds_count{job=\"hourly\",outcome=\"failure\"}"));
            assertEquals(2014, value(text, "backupkit_backup_read_bytes_total{job=\"hourly\"}"));
            assertEquals(Instant.parse("2026-05-01T11:00:00Z").getEpochSecond(),
                    value(text, "backupkit_job_last_failure_timestamp_seconds{job=\"hourly\"}"));
            assertEquals(3, value(text, "backupkit_notifications_failed_total{notifier=\"webhook\"}"), "3 outcomes, all refused");
            assertEquals(1, value(text, "backupkit_health_status"));
            assertTrue(value(text, "backupkit_job_dedup_ratio{job=\"hourly\"}") > 0);
            System.gc(); // gauges are held strongly: still there after a collection
            assertEquals(0, value(prometheus.scrape(), "backupkit_runs_active"));
            s.stop(Duration.ofSeconds(30));
            hook.close();
        }
    }

    @Test
    void repositoryMetricsAreComputedFromTheRepositoryAlone() throws Exception {
        ManualClock clock = new ManualClock(Instant.now().minusSeconds(7200));
        try (Repository repo = OpsFixtures.repository(dir)) {
            SteeredSource source = new SteeredSource(clock);
            backups(repo, source).toBuilder().tag("n", "1").build().backup();
            backups(repo, source).toBuilder().tag("n", "2").build().backup();
            String text = PrometheusText.forRepository(repo, RepositoryStatus.Targets.of(Duration.ofHours(1), Duration.ofMinutes(10)));
            assertEquals(2, value(text, "backupkit_snapshots{source=\"steered test source\"}"));
            assertEquals(1007, value(text, "backupkit_backup_last_size_bytes{source=\"steered test source\"}"));
            double since = value(text, "backupkit_backup_since_last_completion_seconds{source=\"steered test source\"}");
            assertTrue(since >= 0 && since < 600, "seconds since the newest snapshot: " + since);
            assertEquals(3600, value(text, "backupkit_rpo_target_seconds"));
            assertEquals(600, value(text, "backupkit_rto_target_seconds"));
            assertEquals(2, value(text, "backupkit_verify_last_status"), "the newest snapshot was never verified");
            assertEquals(99, value(text, "backupkit_repo_status"), "warnings: unverified, no drill for the RTO target");
            assertTrue(text.contains("# HELP backupkit_backup_since_last_completion_seconds"), text);
        }
    }

    @Test
    void healthEndpointAnswers200Or503WithTheReasons() throws Exception {
        ManualClock clock = new ManualClock(Instant.parse("2026-05-01T09:59:00Z"));
        try (Repository repo = OpsFixtures.repository(dir)) {
            SteeredSource source = new SteeredSource(clock, "ok", "fail");
            BackupScheduler s = BackupScheduler.builder().repository(repo).clock(clock).healthCheckEvery(Duration.ofHours(1))
                    .job(ScheduledJob.backup("hourly", backups(repo, source)).schedule(Schedule.cron("0 * * * *", ZoneId.of("UTC"))).build())
                    .build().start();
            PrometheusMeterRegistry registry = PrometheusText.registry();
            try (OpsHttpServer http = OpsHttpServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), s::health, registry::scrape)) {
                HttpClient client = HttpClient.newHttpClient();
                runUntil(clock, s, Instant.parse("2026-05-01T10:30:00Z"));
                HttpResponse<String> ok = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + "/health")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, ok.statusCode(), ok.body());
                assertTrue(ok.body().contains("\"healthy\":true"), ok.body());
                runUntil(clock, s, Instant.parse("2026-05-01T11:30:00Z"));
                HttpResponse<String> bad = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + "/health")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(503, bad.statusCode());
                assertTrue(bad.body().contains("steered failure #2"), bad.body());
                assertTrue(bad.body().contains("\"healthy\":false"), bad.body());
                HttpResponse<String> metrics = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, metrics.statusCode());
                assertTrue(metrics.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
            }
            s.stop(Duration.ofSeconds(30));
        }
    }
}
