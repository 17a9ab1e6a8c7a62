package io.backupkit.ops;

import io.backupkit.Repository;
import io.backupkit.Snapshot;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;

import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * Gauges computed from the repository ({@link RepositoryStatus}), named after the pgBackRest
 * exporter's so dashboards carry over ({@code pgbackrest_backup_since_last_completion_seconds} →
 * {@code backupkit_backup_since_last_completion_seconds}, per {@code source} instead of stanza).
 * Needs micrometer-core (optional dependency). Gauges hold their state strongly: nothing is lost to
 * garbage collection.
 *
 * <pre>{@code
 * RepositoryMetrics m = new RepositoryMetrics(repo, Targets.none()).bindTo(registry);
 * m.refresh();     // after each backup, or before a scrape
 * }</pre>
 *
 * <table>
 * <caption>Metrics</caption>
 * <tr><td>backupkit_repo_status</td><td>0 ok, 2 no snapshot, 99 other problem (warnings)</td></tr>
 * <tr><td>backupkit_snapshots{source}</td><td>number of snapshots</td></tr>
 * <tr><td>backupkit_backup_since_last_completion_seconds{source}</td><td>seconds since the newest snapshot's backup completed</td></tr>
 * <tr><td>backupkit_backup_last_duration_seconds{source}</td><td>its backup's wall time</td></tr>
 * <tr><td>backupkit_backup_last_size_bytes{source}</td><td>its plaintext size</td></tr>
 * <tr><td>backupkit_backup_last_repo_delta_bytes{source}</td><td>new bytes it stored</td></tr>
 * <tr><td>backupkit_backup_last_dedup_ratio{source}</td><td>size / repo delta</td></tr>
 * <tr><td>backupkit_backup_last_success_timestamp_seconds{source}</td><td>when it completed (Unix time)</td></tr>
 * <tr><td>backupkit_rpo_seconds, backupkit_rpo_target_seconds</td><td>age of the newest recoverable point, and its target</td></tr>
 * <tr><td>backupkit_drill_last_rto_seconds, backupkit_rto_target_seconds, backupkit_drill_last_status</td><td>last restore drill</td></tr>
 * <tr><td>backupkit_verify_last_status</td><td>newest snapshot: 0 verified, 1 failed, 2 unverified</td></tr>
 * <tr><td>backupkit_job_last_status{job}</td><td>0 last run succeeded, 1 failed</td></tr>
 * <tr><td>backupkit_wal_archive_lag_seconds</td><td>only with a {@link RecoveryPointSource} that reports it</td></tr>
 * </table>
 */
public final class RepositoryMetrics {
    private final Repository repository;
    private final RepositoryStatus.Targets targets;
    private final List<RecoveryPointSource> sources;
    private final AtomicReference<RepositoryStatus> status = new AtomicReference<>();
    private final Map<String, Snapshot> lastBySource = new ConcurrentHashMap<>();
    private final Map<String, Long> countBySource = new ConcurrentHashMap<>();
    private final Map<String, RunRecord> lastByJob = new ConcurrentHashMap<>();
    private MeterRegistry registry;

    public RepositoryMetrics(Repository repository, RepositoryStatus.Targets targets) {
        this(repository, targets, null);
    }

    /** With explicit recovery point sources (null: found by ServiceLoader). */
    public RepositoryMetrics(Repository repository, RepositoryStatus.Targets targets, List<RecoveryPointSource> sources) {
        this.repository = repository;
        this.targets = targets;
        this.sources = sources;
    }

    /** Registers the repository-wide gauges and reads the repository once. */
    public synchronized RepositoryMetrics bindTo(MeterRegistry registry) {
        this.registry = registry;
        gauge("backupkit.repo.status", null, "0 ok, 2 no snapshot, 99 warnings", s -> s.snapshots().isEmpty() ? 2 : s.healthy() ? 0 : 99);
        gauge("backupkit.rpo", "seconds", "age of the newest recoverable point", s -> s.rpo().map(d -> d.toMillis() / 1000.0).orElse(Double.NaN));
        gauge("backupkit.rpo.target", "seconds", "RPO target", s -> s.rpoTarget() == null ? Double.NaN : s.rpoTarget().getSeconds());
        gauge("backupkit.rto.target", "seconds", "RTO target", s -> s.rtoTarget() == null ? Double.NaN : s.rtoTarget().getSeconds());
        gauge("backupkit.drill.last.rto", "seconds", "restore time of the last successful drill",
                s -> s.rto().map(d -> d.toMillis() / 1000.0).orElse(Double.NaN));
        gauge("backupkit.drill.last.status", null, "last restore drill: 0 succeeded, 1 failed",
                s -> s.lastDrill() == null ? Double.NaN : s.lastDrill().succeeded() ? 0 : 1);
        gauge("backupkit.verify.last.status", null, "newest snapshot: 0 verified, 1 failed verification, 2 unverified",
                s -> s.latest().map(l -> Optional.ofNullable(s.verifications().get(l.id())).map(v -> v.passed() ? 0 : 1).orElse(2))
                        .map(Integer::doubleValue).orElse(Double.NaN));
        refresh();
        return this;
    }

    private void gauge(String name, String unit, String help, ToDoubleFunction<RepositoryStatus> f) {
        Gauge.Builder<AtomicReference<RepositoryStatus>> b = Gauge.builder(name, status, ref -> {
            RepositoryStatus s = ref.get();
            return s == null ? Double.NaN : f.applyAsDouble(s);
        }).description(help).strongReference(true);
        if (unit != null) {
            b.baseUnit(unit);
        }
        b.register(registry);
    }

    /** Reads the repository again and updates every gauge; returns the status read. */
    public synchronized RepositoryStatus refresh() {
        RepositoryStatus s = sources == null ? RepositoryStatus.read(repository, targets, Instant.now())
                : RepositoryStatus.read(repository, targets, Instant.now(), sources);
        status.set(s);
        Map<String, Snapshot> last = new LinkedHashMap<>();
        Map<String, Long> counts = new LinkedHashMap<>();
        s.snapshots().stream().sorted(Comparator.comparing(Snapshot::time)).forEach(x -> {
            last.put(x.source(), x);
            counts.merge(x.source(), 1L, Long::sum);
        });
        for (Map.Entry<String, Snapshot> e : last.entrySet()) {
            boolean fresh = !lastBySource.containsKey(e.getKey());
            lastBySource.put(e.getKey(), e.getValue());
            countBySource.put(e.getKey(), counts.get(e.getKey()));
            if (fresh && registry != null) {
                bindSource(e.getKey());
            }
        }
        for (RunRecord r : s.runs()) {
            boolean fresh = !lastByJob.containsKey(r.job());
            lastByJob.put(r.job(), r);
            if (fresh && registry != null) {
                Gauge.builder("backupkit.job.last.status", lastByJob, m -> m.get(r.job()).succeeded() ? 0 : 1)
                        .description("last run of the job: 0 succeeded, 1 failed").tags(Tags.of("job", r.job()))
                        .strongReference(true).register(registry);
            }
        }
        if (s.archiveLag() != null && registry != null) {
            Gauge.builder("backupkit.wal.archive.lag", status, ref -> ref.get().archiveLag() == null ? Double.NaN
                    : ref.get().archiveLag().toMillis() / 1000.0).baseUnit("seconds")
                    .description("age of the newest archived WAL").strongReference(true).register(registry);
        }
        return s;
    }

    private void bindSource(String source) {
        Tags tags = Tags.of("source", source);
        sourceGauge("backupkit.snapshots", null, "number of snapshots", tags, source, x -> (double) countBySource.get(source));
        sourceGauge("backupkit.backup.since.last.completion", "seconds", "seconds since the newest snapshot's backup completed", tags,
                source, x -> (Instant.now().toEpochMilli() - x.time().toEpochMilli() - x.durationMillis()) / 1000.0);
        sourceGauge("backupkit.backup.last.duration", "seconds", "wall time of the newest snapshot's backup", tags, source,
                x -> x.durationMillis() / 1000.0);
        sourceGauge("backupkit.backup.last.size", "bytes", "plaintext bytes of the newest snapshot", tags, source, x -> (double) x.bytesRead());
        sourceGauge("backupkit.backup.last.repo.delta", "bytes", "new bytes the newest snapshot stored", tags, source,
                x -> (double) x.bytesStored());
        sourceGauge("backupkit.backup.last.dedup.ratio", null, "plaintext bytes / new bytes stored of the newest snapshot", tags, source,
                x -> x.bytesStored() == 0 ? Double.NaN : (double) x.bytesRead() / x.bytesStored());
        sourceGauge("backupkit.backup.last.success.timestamp", "seconds", "completion of the newest snapshot's backup (Unix time)", tags,
                source, x -> (x.time().toEpochMilli() + x.durationMillis()) / 1000.0);
    }

    private void sourceGauge(String name, String unit, String help, Tags tags, String source, Function<Snapshot, Double> f) {
        Gauge.Builder<Map<String, Snapshot>> b = Gauge.builder(name, lastBySource, m -> f.apply(m.get(source)))
                .description(help).tags(tags).strongReference(true);
        if (unit != null) {
            b.baseUnit(unit);
        }
        b.register(registry);
    }

    public RepositoryStatus status() {
        return status.get();
    }
}
