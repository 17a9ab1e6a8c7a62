package io.backupkit.ops;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Live metrics of scheduled runs in the embedding service's own Micrometer registry (micrometer-core
 * is an optional dependency: only this class and {@link RepositoryMetrics} need it). Register it as a
 * {@link JobListener}. Gauges are held strongly.
 *
 * <pre>{@code
 * MicrometerMetrics metrics = new MicrometerMetrics(meterRegistry);
 * BackupScheduler.builder()...listener(metrics).build();
 * metrics.bindNotifier(webhook);
 * }</pre>
 *
 * Prometheus names: {@code backupkit_backup_duration_seconds{job,outcome}} (timer; also
 * {@code backupkit_verify_duration_seconds}, {@code backupkit_restore_duration_seconds} for drills),
 * {@code backupkit_backup_read_bytes_total{job}}, {@code backupkit_backup_stored_bytes_total{job}},
 * {@code backupkit_job_dedup_ratio{job}}, {@code backupkit_job_last_success_timestamp_seconds{job}},
 * {@code backupkit_job_last_failure_timestamp_seconds{job}}, {@code backupkit_runs_active},
 * {@code backupkit_job_skipped_total{job}}, {@code backupkit_notifications_sent_total{notifier}},
 * {@code backupkit_notifications_failed_total{notifier}}, {@code backupkit_notifications_dropped_total{notifier}}.
 */
public final class MicrometerMetrics implements JobListener {
    private final MeterRegistry registry;
    private final AtomicInteger active = new AtomicInteger();
    private final Map<String, AtomicLong> lastSuccess = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> lastFailure = new ConcurrentHashMap<>();
    private final Map<String, double[]> dedup = new ConcurrentHashMap<>();
    private final Map<String, Boolean> runningJobs = new ConcurrentHashMap<>();

    public MicrometerMetrics(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder("backupkit.runs.active", active, AtomicInteger::get).description("scheduled runs in progress")
                .strongReference(true).register(registry);
    }

    /** Exports a notifier's sent, failed and dropped counts. */
    public MicrometerMetrics bindNotifier(Notifier notifier) {
        Tags tags = Tags.of("notifier", notifier.name());
        FunctionCounter.builder("backupkit.notifications.sent", notifier, Notifier::sent).tags(tags).register(registry);
        FunctionCounter.builder("backupkit.notifications.failed", notifier, Notifier::failures).tags(tags)
                .description("notifications given up after all retries").register(registry);
        FunctionCounter.builder("backupkit.notifications.dropped", notifier, Notifier::dropped).tags(tags).register(registry);
        return this;
    }

    /** Exports a scheduler's health as {@code backupkit_health_status} (1 healthy, 0 not). */
    public MicrometerMetrics bindScheduler(BackupScheduler scheduler) {
        Gauge.builder("backupkit.health.status", scheduler, s -> s.health().healthy() ? 1 : 0)
                .description("1 when every job is healthy").strongReference(true).register(registry);
        FunctionCounter.builder("backupkit.listener.failures", scheduler, BackupScheduler::listenerFailures)
                .description("job listeners that threw").register(registry);
        return this;
    }

    @Override
    public void onEvent(JobEvent e) {
        Tags job = Tags.of("job", e.job());
        switch (e.type()) {
            case STARTED -> {
                if (runningJobs.putIfAbsent(e.job(), Boolean.TRUE) == null) {
                    active.incrementAndGet();
                }
            }
            case SKIPPED -> Counter.builder("backupkit.job.skipped").tags(job).description("ticks not run here").register(registry).increment();
            case SUCCEEDED, FAILED -> {
                if (runningJobs.remove(e.job()) != null) {
                    active.decrementAndGet();
                }
                RunRecord r = e.run();
                if (r == null) {
                    return;
                }
                String outcome = e.type() == JobEvent.Type.SUCCEEDED ? "success" : "failure";
                String timer = r.isDrill() ? "backupkit.restore.duration" : "backupkit.backup.duration";
                Duration d = r.isDrill() || r.durationMillis() > 0 ? Duration.ofMillis(r.durationMillis())
                        : Duration.between(r.started(), r.finished());
                Timer.builder(timer).tags(job.and("outcome", outcome)).description(r.isDrill() ? "restore drills" : "backups")
                        .register(registry).record(d);
                if (!r.isDrill()) {
                    Counter.builder("backupkit.backup.read").baseUnit("bytes").tags(job).description("plaintext bytes read")
                            .register(registry).increment(r.bytesRead());
                    Counter.builder("backupkit.backup.stored").baseUnit("bytes").tags(job).description("new bytes stored")
                            .register(registry).increment(r.bytesStored());
                    if (r.succeeded() && r.bytesStored() > 0) {
                        double[] ratio = dedup.computeIfAbsent(e.job(), k -> {
                            double[] h = {Double.NaN};
                            Gauge.builder("backupkit.job.dedup.ratio", h, a -> a[0]).tags(job).strongReference(true)
                                    .description("bytes read / bytes stored of the last backup").register(registry);
                            return h;
                        });
                        ratio[0] = (double) r.bytesRead() / r.bytesStored();
                    }
                }
                Map<String, AtomicLong> target = r.succeeded() ? lastSuccess : lastFailure;
                String name = r.succeeded() ? "backupkit.job.last.success.timestamp" : "backupkit.job.last.failure.timestamp";
                target.computeIfAbsent(e.job(), k -> {
                    AtomicLong v = new AtomicLong();
                    Gauge.builder(name, v, AtomicLong::get).baseUnit("seconds").tags(job).strongReference(true).register(registry);
                    return v;
                }).set(r.finished().getEpochSecond());
            }
            case VERIFIED -> {
                RunRecord r = e.run();
                if (r != null && r.verification() != null) {
                    Timer.builder("backupkit.verify.duration").tags(job.and("outcome", r.verification().passed() ? "success" : "failure"))
                            .register(registry).record(Duration.ofMillis(r.verification().durationMillis()));
                }
            }
            default -> {
            }
        }
    }
}
