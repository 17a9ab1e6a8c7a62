package io.backupkit.cli;

import io.backupkit.BackupManager;
import io.backupkit.ConfigurationException;
import io.backupkit.Repository;
import io.backupkit.VerificationLevel;
import io.backupkit.ops.BackupScheduler;
import io.backupkit.ops.JobEvent;
import io.backupkit.ops.MicrometerMetrics;
import io.backupkit.ops.MissedRunPolicy;
import io.backupkit.ops.OpsHttpServer;
import io.backupkit.ops.RepositoryMetrics;
import io.backupkit.ops.RepositoryStatus;
import io.backupkit.ops.RetryPolicy;
import io.backupkit.ops.Schedule;
import io.backupkit.ops.ScheduledJob;
import io.backupkit.ops.WebhookNotifier;
import io.backupkit.spi.BackupSource;
import io.backupkit.spi.DatabaseEngine;
import io.backupkit.spi.RestoreTarget;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

@Command(name = "schedule", description = {"Back a database up on a cron schedule, in the foreground, until SIGTERM or SIGINT (then exit 0).",
        "CRON IS STANDARD 5-FIELD UNIX CRON: minute hour day-of-month month day-of-week ('0 3 * * *' = daily at 03:00). "
                + "A six-field expression with seconds first (Quartz/Spring/CloudNativePG) is refused."},
        footer = {"", "Replicas on one repository run each tick exactly once (a lock and a write-once claim in the repository).",
                "With --metrics-port: GET /metrics (Prometheus text) and GET /health (200 healthy, 503 unhealthy, JSON saying why).",
                "", "Examples:",
                "  backupkit schedule --repo /var/backups/shop --db postgresql://backup@db/shop --cron '30 2 * * *' --zone Europe/Berlin",
                "  backupkit schedule --repo s3://bucket/shop --db postgresql://backup@db/shop --cron '0 * * * *' --verify standard \\",
                "      --notify-webhook https://ops.example.com/hooks/backup --metrics-port 9187 --rpo-target 2h"})
final class ScheduleCommand extends CliCommand {
    enum Level { quick, standard, comprehensive }

    enum Missed { run_once, skip }

    @Mixin
    RepositoryOptions repository;

    @Mixin
    DatabaseOptions database;

    @Mixin
    NotifyOptions notify;

    @Option(names = "--db", required = true, paramLabel = "URL", description = "The database to back up (as for backup).")
    String url;

    @Option(names = "--cron", required = true, paramLabel = "EXPR",
            description = "Standard 5-field Unix cron: minute hour day-of-month month day-of-week, or @hourly/@daily/@weekly/@monthly.")
    String cron;

    @Option(names = "--zone", paramLabel = "ZONE", defaultValue = "UTC",
            description = "Time zone the cron expression is read in, e.g. Europe/Berlin (default: UTC).")
    String zone;

    @Option(names = "--verify", paramLabel = "LEVEL", description = "Verify each new snapshot: quick, standard or comprehensive (needs --scratch).")
    Level verify;

    @Option(names = "--scratch", paramLabel = "URL",
            description = "Server for comprehensive verification and restore drills (a scratch database is created and dropped there).")
    String scratch;

    @Option(names = "--metrics-port", paramLabel = "PORT", description = "Serve GET /metrics and GET /health on this port.")
    Integer metricsPort;

    @Option(names = "--metrics-address", paramLabel = "ADDR", defaultValue = "0.0.0.0",
            description = "Address to serve /metrics and /health on (default: 0.0.0.0, all interfaces).")
    String metricsAddress;

    @Option(names = "--job", paramLabel = "NAME", defaultValue = "backup",
            description = "Job name: tags snapshots (job=NAME) and keys the lock and claims (default: backup).")
    String job;

    @Option(names = "--jobs", paramLabel = "N", description = "Parallel dump processes and pipeline workers (default: CPUs).")
    Integer jobs;

    @Option(names = "--tag", paramLabel = "KEY=VALUE", description = "Tag every snapshot (repeatable).")
    Map<String, String> tags = new LinkedHashMap<>();

    @Option(names = "--retries", paramLabel = "N", defaultValue = "2", description = "Retries of a failed backup within its tick (default: 2).")
    int retries;

    @Option(names = "--retry-delay", paramLabel = "DURATION", defaultValue = "1m", converter = Durations.class,
            description = "Delay before the first retry, doubled for each further one, at most 30m (default: 1m).")
    Duration retryDelay;

    @Option(names = "--jitter", paramLabel = "DURATION", defaultValue = "0s", converter = Durations.class,
            description = "Start each run a random delay in [0, DURATION) after its tick (default: 0s).")
    Duration jitter;

    @Option(names = "--missed", paramLabel = "POLICY", defaultValue = "run_once",
            description = "Ticks missed while down or while a run was going: run_once (default: run once at once) or skip.")
    Missed missed;

    @Option(names = "--rpo-target", paramLabel = "DURATION", converter = Durations.class,
            description = "Unhealthy when the newest snapshot is older than this.")
    Duration rpoTarget;

    @Option(names = "--stale-after", paramLabel = "DURATION", converter = Durations.class,
            description = "Unhealthy when the last success is older than this (default: twice the longest gap between ticks).")
    Duration staleAfter;

    @Option(names = "--drill-cron", paramLabel = "EXPR",
            description = "Also run a restore drill on this schedule: restore the newest snapshot into --scratch and record its RTO.")
    String drillCron;

    @Option(names = "--rto-target", paramLabel = "DURATION", converter = Durations.class,
            description = "Unhealthy when the last restore drill took longer than this.")
    Duration rtoTarget;

    @Option(names = "--grace", paramLabel = "DURATION", defaultValue = "1m", converter = Durations.class,
            description = "On SIGTERM/SIGINT, let a running backup finish for this long, then abort it (no partial snapshot) (default: 1m).")
    Duration grace;

    ScheduleCommand(Terminal terminal) {
        super(terminal);
    }

    @Override
    int run() {
        ZoneId zoneId;
        try {
            zoneId = ZoneId.of(zone);
        } catch (DateTimeException e) {
            throw usage("--zone '" + zone + "' is not a time zone: use a region such as Europe/Berlin, or UTC");
        }
        Schedule schedule = Schedule.cron(cron, zoneId);
        Schedule drillSchedule = drillCron == null ? null : Schedule.cron(drillCron, zoneId);
        if (jobs != null && jobs < 1) {
            throw usage("--jobs must be at least 1, was " + jobs);
        }
        if (retries < 0 || retries > 10) {
            throw usage("--retries must be 0-10, was " + retries);
        }
        if ((verify == Level.comprehensive || drillCron != null) && scratch == null) {
            throw usage((drillCron != null ? "--drill-cron" : "--verify comprehensive") + " restores into a scratch database: give --scratch URL");
        }
        if (rtoTarget != null && drillCron == null) {
            throw usage("--rto-target is measured by restore drills: give --drill-cron too");
        }
        DatabaseEngine engine = Engines.forUrl(url);
        Map<String, String> extra = new LinkedHashMap<>();
        if (jobs != null) {
            extra.put("jobs", Integer.toString(jobs));
        }
        BackupSource source = engine.source(url, database.options(terminal, extra));
        RestoreTarget scratchTarget = scratch == null ? null : Engines.forUrl(scratch).target(scratch, database.options(terminal, Map.of()));

        List<WebhookNotifier> notifiers = notify.notifiers(terminal, io.backupkit.Storages.redact(repository.location(terminal)));
        CountDownLatch stop = new CountDownLatch(1);
        List<String> signals = Signals.onTermination(stop);
        try (Repository repo = repository.open(terminal, null, false)) {
            PrometheusMeterRegistry registry = io.backupkit.ops.PrometheusText.registry();
            MicrometerMetrics metrics = new MicrometerMetrics(registry);
            notifiers.forEach(metrics::bindNotifier);
            RepositoryMetrics repoMetrics = new RepositoryMetrics(repo, RepositoryStatus.Targets.of(rpoTarget, rtoTarget)).bindTo(registry);

            BackupManager.Builder manager = BackupManager.builder().repository(repo).source(source);
            if (jobs != null) {
                manager.parallelism(jobs);
            }
            tags.forEach(manager::tag);
            ScheduledJob.Builder backup = ScheduledJob.backup(job, manager.build()).schedule(schedule).jitter(jitter)
                    .retry(RetryPolicy.exponential(retries, retryDelay, retryDelay.compareTo(Duration.ofMinutes(30)) > 0 ? retryDelay
                            : Duration.ofMinutes(30)))
                    .missedRuns(missed == Missed.skip ? MissedRunPolicy.SKIP : MissedRunPolicy.RUN_ONCE);
            if (verify != null) {
                backup.verify(VerificationLevel.valueOf(verify.name().toUpperCase(Locale.ROOT))).scratchTarget(scratchTarget);
            }
            if (rpoTarget != null) {
                backup.rpoTarget(rpoTarget);
            }
            if (staleAfter != null) {
                backup.staleAfter(staleAfter);
            }
            BackupScheduler.Builder sb = BackupScheduler.builder().repository(repo).job(backup.build())
                    .listener(this::print).listener(metrics);
            if (drillSchedule != null) {
                ScheduledJob.Builder drill = ScheduledJob.drill(job + "-drill", scratchTarget).of(job).schedule(drillSchedule);
                if (rtoTarget != null) {
                    drill.rtoTarget(rtoTarget);
                }
                sb.job(drill.build());
            }
            notifiers.forEach(sb::listener);
            sb.listener(e -> {
                if (e.type() == JobEvent.Type.SUCCEEDED || e.type() == JobEvent.Type.FAILED) {
                    repoMetrics.refresh();
                }
            });
            BackupScheduler scheduler = sb.build();
            metrics.bindScheduler(scheduler);

            OpsHttpServer http = null;
            if (metricsPort != null) {
                try {
                    http = OpsHttpServer.start(new InetSocketAddress(metricsAddress, metricsPort), scheduler::health, registry::scrape);
                } catch (IOException e) {
                    throw new ConfigurationException("cannot serve /metrics and /health on " + metricsAddress + ":" + metricsPort + ": "
                            + e.getMessage() + " (is the port in use?)");
                }
            }
            scheduler.start();
            Instant next = schedule.nextAfter(Instant.now()).orElse(null);
            if (!json()) {
                out().printf("scheduling job %s: cron '%s' (5-field Unix cron: minute hour day-of-month month day-of-week) in %s%n",
                        job, cron, zoneId.getId());
                out().printf("  next run  %s%n", next == null ? "never" : DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(next.atZone(zoneId)));
                if (drillSchedule != null) {
                    out().printf("  drill     %s (restores into %s)%n", drillSchedule.describe(), Redact.url(scratch));
                }
                if (http != null) {
                    out().printf("  serving   http://%s:%d/metrics and /health%n", metricsAddress, http.port());
                }
                out().printf("  stop with Ctrl-C or SIGTERM (%s)%n", String.join(", ", signals));
                out().flush();
            }
            try {
                stop.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            BackupScheduler.StopResult r = scheduler.stop(grace);
            notifiers.forEach(WebhookNotifier::close);
            if (http != null) {
                http.close();
            }
            if (!json()) {
                out().println("stopped" + (r.finished().isEmpty() ? "" : ": let the running " + String.join(", ", r.finished()) + " finish")
                        + (r.aborted().isEmpty() ? "" : ": aborted " + String.join(", ", r.aborted()) + " (no partial snapshot)"));
                out().flush();
            }
            return ExitCodes.OK;
        }
    }

    /** One line per event; with --json one JSON object per line. */
    private void print(JobEvent e) {
        if (e.type() == JobEvent.Type.STARTED && e.attempt() == 1 && !json()) {
            return;
        }
        synchronized (terminal.out) {
            if (json()) {
                terminal.out.println(e.toJson(null));
            } else {
                terminal.out.printf("%s %s%n", DateTimeFormatter.ISO_INSTANT.format(e.time().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)),
                        e.summary());
            }
            terminal.out.flush();
        }
    }

    /** SIGTERM and SIGINT end the foreground run cleanly with exit 0 (the JVM's default would exit 143/130). */
    static final class Signals {
        private Signals() {
        }

        static List<String> onTermination(CountDownLatch stop) {
            List<String> installed = new ArrayList<>();
            for (String name : new String[] {"TERM", "INT"}) {
                try {
                    sun.misc.Signal.handle(new sun.misc.Signal(name), s -> stop.countDown());
                    installed.add("SIG" + name);
                } catch (IllegalArgumentException | UnsupportedOperationException | LinkageError e) {
                    // not available here (e.g. a JVM without jdk.unsupported): a shutdown hook still stops cleanly
                    Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
                }
            }
            return installed;
        }
    }
}
