package io.backupkit.ops;

import io.backupkit.Repository;
import io.backupkit.Snapshot;
import io.backupkit.VerificationLevel;
import io.backupkit.ops.OpsFixtures.Events;
import io.backupkit.postgres.PostgresSource;
import io.backupkit.postgres.PostgresTarget;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.backupkit.ops.OpsFixtures.runUntil;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Restore drills scheduled next to the backups, against a real PostgreSQL: the drill restores into
 * a scratch database, its RTO is recorded and compared with the target, a failed or slow drill turns
 * health unhealthy; the HTML report renders in headless Chromium with every snapshot, the RPO and
 * the drill's RTO against their targets.
 */
class DrillIT {
    static EphemeralPostgres pg;
    @TempDir
    Path dir;

    @BeforeAll
    static void startPostgres() {
        pg = EphemeralPostgres.start();
        pg.createDatabase("shop");
        pg.execute("shop", "CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL, total numeric(10,2));"
                + "INSERT INTO orders SELECT i, 'customer ' || (i % 100), i * 1.5 FROM generate_series(1, 5000) i;");
    }

    @AfterAll
    static void stopPostgres() {
        if (pg != null) {
            pg.close();
        }
    }

    private static PostgresTarget scratch() {
        return PostgresTarget.builder().url(pg.uri("postgres")).user(pg.user()).password(pg.password().toCharArray()).build();
    }

    private static PostgresSource source() {
        return PostgresSource.builder().url(pg.jdbcUrl("shop")).user(pg.user()).password(pg.password().toCharArray()).build();
    }

    @Test
    void aScheduledDrillRecordsItsRtoAndHealthComparesItWithTheTarget() throws Exception {
        ManualClock clock = new ManualClock(Instant.parse("2026-05-01T00:30:00Z"));
        Events events = new Events();
        try (Repository repo = OpsFixtures.repository(dir)) {
            ScheduledJob backup = ScheduledJob.backup("shop", io.backupkit.BackupManager.builder().repository(repo).source(source())
                            .parallelism(2).build())
                    .schedule(Schedule.cron("0 * * * *", ZoneId.of("Europe/Berlin"))).verify(VerificationLevel.STANDARD)
                    .rpoTarget(Duration.ofHours(2)).build();
            ScheduledJob drill = ScheduledJob.drill("shop-drill", scratch()).of("shop")
                    .schedule(Schedule.cron("30 */2 * * *", ZoneId.of("Europe/Berlin"))).rtoTarget(Duration.ofMinutes(10)).build();
            BackupScheduler s = BackupScheduler.builder().repository(repo).clock(clock).listener(events).healthCheckEvery(Duration.ofHours(1))
                    .job(backup).job(drill).build().start();
            // backups at 01:00, 02:00, 03:00 UTC; the drill at 02:30 UTC restores the 02:00 snapshot
            runUntil(clock, s, Instant.parse("2026-05-01T03:10:00Z"));
            List<JobEvent> drills = events.all.stream().filter(e -> e.job().equals("shop-drill") && e.type() == JobEvent.Type.SUCCEEDED).toList();
            assertEquals(1, drills.size(), events.all.toString());
            RunRecord drillRun = drills.get(0).run();
            assertTrue(drillRun.durationMillis() > 0, "the RTO is measured: " + drillRun);
            assertTrue(drillRun.verification().passed() && "comprehensive".equals(drillRun.verification().level()), drillRun.toString());
            List<Snapshot> snaps = repo.snapshots().list();
            assertEquals(3, snaps.size());
            Snapshot restored = snaps.stream().filter(x -> x.id().equals(drillRun.snapshot())).findFirst().orElseThrow();
            assertEquals("2026-05-01T02:00:00Z", restored.tags().get("tick"), "the newest snapshot of job shop at drill time");
            assertEquals(3, events.of(JobEvent.Type.VERIFIED).size(), "every backup was verified");
            Health h = s.health();
            assertTrue(h.healthy(), h.toString());
            Health.JobHealth dh = h.jobs().stream().filter(j -> j.job().equals("shop-drill")).findFirst().orElseThrow();
            assertEquals(drillRun.durationMillis() / 1000.0, dh.rtoSeconds());
            assertEquals(600L, dh.rtoTargetSeconds());
            assertEquals("0", pg.queryForString("postgres",
                    "SELECT count(*) FROM pg_database WHERE datname NOT IN ('postgres','template0','template1','shop')").trim(),
                    "the scratch database was dropped");
            s.stop(Duration.ofSeconds(60));

            // the same history judged against a target the drill could not meet
            BackupScheduler strict = BackupScheduler.builder().repository(repo).clock(clock).healthCheckEvery(Duration.ofHours(1))
                    .job(ScheduledJob.drill("shop-drill", scratch()).of("shop").schedule(Schedule.cron("30 */2 * * *", ZoneId.of("Europe/Berlin")))
                            .rtoTarget(Duration.ofMillis(1)).build()).build().start();
            Health sh = strict.health();
            assertFalse(sh.healthy());
            assertTrue(sh.reasons().get(0).contains("the last restore drill took") && sh.reasons().get(0).contains("more than the RTO target"),
                    sh.reasons().toString());
            strict.stop(Duration.ofSeconds(30));

            renderReportInChromium(repo, drillRun);

            // a drill that fails (the scratch server is gone) turns health unhealthy
            Events later = new Events();
            BackupScheduler failing = BackupScheduler.builder().repository(repo).clock(clock).listener(later).healthCheckEvery(Duration.ofHours(1))
                    .job(ScheduledJob.drill("shop-drill", PostgresTarget.builder().url("postgresql://127.0.0.1:1/postgres").user("nobody").build())
                            .of("shop").schedule(Schedule.cron("30 */2 * * *", ZoneId.of("Europe/Berlin"))).rtoTarget(Duration.ofMinutes(10)).build())
                    .build().start();
            runUntil(clock, failing, Instant.parse("2026-05-01T04:40:00Z"));
            assertEquals(1, later.of(JobEvent.Type.FAILED).size(), later.all.toString());
            Health fh = failing.health();
            assertFalse(fh.healthy());
            assertTrue(fh.reasons().get(0).startsWith("job shop-drill: the last run (tick 2026-05-01T04:30:00Z) failed"), fh.reasons().toString());
            failing.stop(Duration.ofSeconds(30));
        }
    }

    private void renderReportInChromium(Repository repo, RunRecord drillRun) throws Exception {
        RepositoryStatus status = RepositoryStatus.read(repo, RepositoryStatus.Targets.none(), Instant.now());
        assertEquals(Duration.ofHours(2), status.rpoTarget(), "targets come from the run records");
        assertEquals(Duration.ofMinutes(10), status.rtoTarget());
        String html = HtmlReport.render(status, ZoneId.of("Europe/Berlin"));
        Matcher external = Pattern.compile("(?i)(src|href)\\s*=\\s*[\"']?(https?:|//)|@import|url\\(\\s*['\"]?https?:").matcher(html);
        assertFalse(external.find(), "self-contained: nothing is fetched");
        Path page = dir.resolve("report.html");
        Files.writeString(page, html);
        String dom = Chromium.dumpDom(page, dir);
        for (Snapshot x : repo.snapshots().list()) {
            assertTrue(dom.contains("data-snapshot-id=\"" + x.id() + "\""), "snapshot " + x.shortId() + " is shown");
            assertTrue(dom.contains(">" + x.shortId() + "</code>"), "snapshot " + x.shortId() + " is shown");
        }
        String rpoCard = section(dom, "rpo");
        assertTrue(rpoCard.contains("target 2 h 0 min"), rpoCard);
        // snapshot times are real (the pipeline's clock), so the RPO is seconds old and within the target
        assertTrue(rpoCard.contains(io.backupkit.ops.internal.Runs.human(status.rpo().orElseThrow())) && rpoCard.contains("met"), rpoCard);
        String rtoCard = section(dom, "rto");
        String rto = io.backupkit.ops.internal.Runs.human(Duration.ofMillis(drillRun.durationMillis()));
        assertTrue(rtoCard.contains(rto) && rtoCard.contains("target 10 min") && rtoCard.contains("met"), rtoCard);
        assertTrue(dom.contains("id=\"chart-sizes\"") && dom.contains("<rect"), "the chart is in the DOM");
        Chromium.screenshot(page, dir);
    }

    private static String section(String dom, String id) {
        int at = dom.indexOf("id=\"" + id + "\"");
        assertTrue(at >= 0, "no element " + id);
        return dom.substring(at, Math.min(dom.length(), dom.indexOf("</div></div>", at) + 12));
    }
}
