package io.backupkit.ops;

import io.backupkit.Repository;
import io.backupkit.Snapshot;
import io.backupkit.ops.internal.OpsRecords;
import io.backupkit.ops.internal.Runs;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * What a repository says about its own health, computed from its snapshots and the scheduler's run
 * records alone (like the pgBackRest and WAL-G exporters compute from {@code info}): the basis of
 * {@code backupkit metrics}, {@code backupkit report} and {@link RepositoryMetrics}.
 *
 * <pre>{@code
 * RepositoryStatus s = RepositoryStatus.read(repo, Targets.of(Duration.ofHours(25), Duration.ofMinutes(30)), Instant.now());
 * s.rpo().ifPresent(rpo -> System.out.println("RPO " + rpo + (s.rpoExceeded() ? " EXCEEDS " : " within ") + s.rpoTarget()));
 * }</pre>
 *
 * @param location       the repository (without credentials)
 * @param checked        when this was computed
 * @param snapshots      every snapshot, oldest first
 * @param runs           every run record, oldest first
 * @param newestRecoverablePoint the newest snapshot's time, or a newer point from a {@link RecoveryPointSource}
 * @param archiveLag     WAL archive lag, when a source reports one
 * @param rpoTarget      the RPO target (given, or the newest run record's), or null
 * @param rtoTarget      the RTO target (given, or the newest drill's), or null
 * @param lastDrill      the newest restore drill, or null
 * @param verifications  the newest verification of each snapshot id (from run records)
 * @param warnings       stale, failed, unverified, over target: one sentence each
 */
public record RepositoryStatus(String location, Instant checked, List<Snapshot> snapshots, List<RunRecord> runs,
                               Instant newestRecoverablePoint, Duration archiveLag, Duration rpoTarget, Duration rtoTarget,
                               RunRecord lastDrill, Map<String, RunRecord.Verification> verifications, List<String> warnings) {

    /** Targets to compare with; null fields fall back to what the run records say. */
    public record Targets(Duration rpo, Duration rto) {
        public static Targets none() {
            return new Targets(null, null);
        }

        public static Targets of(Duration rpo, Duration rto) {
            return new Targets(rpo, rto);
        }
    }

    public static RepositoryStatus read(Repository repository, Targets targets, Instant now) {
        List<RecoveryPointSource> sources = new ArrayList<>();
        ServiceLoader.load(RecoveryPointSource.class, RepositoryStatus.class.getClassLoader()).forEach(sources::add);
        return read(repository, targets, now, sources);
    }

    public static RepositoryStatus read(Repository repository, Targets targets, Instant now, List<RecoveryPointSource> sources) {
        Objects.requireNonNull(targets, "targets");
        List<Snapshot> snapshots = new ArrayList<>(repository.snapshots().list());
        snapshots.sort(Comparator.comparing(Snapshot::time));
        List<String> warnings = new ArrayList<>();
        List<String> damaged = new ArrayList<>();
        List<RunRecord> runs = new OpsRecords(repository).allRuns(damaged);
        damaged.forEach(d -> warnings.add("damaged run record: " + d));

        Instant newest = snapshots.isEmpty() ? null : snapshots.get(snapshots.size() - 1).time();
        Duration lag = null;
        for (RecoveryPointSource s : sources) {
            Optional<Instant> p = s.newestRecoverablePoint(repository);
            if (p.isPresent() && (newest == null || p.get().isAfter(newest))) {
                newest = p.get();
            }
            Optional<Duration> l = s.archiveLag(repository, now);
            if (l.isPresent()) {
                lag = lag == null || l.get().compareTo(lag) > 0 ? l.get() : lag;
            }
        }
        RunRecord lastDrill = null;
        Long rpoFromRuns = null;
        Long rtoFromRuns = null;
        Map<String, RunRecord.Verification> verifications = new LinkedHashMap<>();
        for (RunRecord r : runs) {
            if (r.isDrill()) {
                lastDrill = r;
                if (r.rtoTargetSeconds() != null) {
                    rtoFromRuns = r.rtoTargetSeconds();
                }
            } else if (r.rpoTargetSeconds() != null) {
                rpoFromRuns = r.rpoTargetSeconds();
            }
            if (r.verification() != null && r.snapshot() != null) {
                verifications.put(r.snapshot(), r.verification());
            }
        }
        Duration rpoTarget = targets.rpo() != null ? targets.rpo() : rpoFromRuns == null ? null : Duration.ofSeconds(rpoFromRuns);
        Duration rtoTarget = targets.rto() != null ? targets.rto() : rtoFromRuns == null ? null : Duration.ofSeconds(rtoFromRuns);

        if (snapshots.isEmpty()) {
            warnings.add("no snapshot: nothing can be restored from this repository");
        } else {
            Duration rpo = Duration.between(newest, now);
            if (rpoTarget != null && rpo.compareTo(rpoTarget) > 0) {
                warnings.add("stale: RPO " + Runs.human(rpo) + " exceeds the target of " + Runs.human(rpoTarget));
            }
            Snapshot latest = snapshots.get(snapshots.size() - 1);
            RunRecord.Verification v = verifications.get(latest.id());
            if (v == null) {
                warnings.add("unverified: the newest snapshot " + latest.shortId() + " has no recorded verification");
            } else if (!v.passed()) {
                warnings.add("verification failed: the newest snapshot " + latest.shortId() + " failed " + v.level() + " verification");
            }
        }
        Map<String, RunRecord> lastPerJob = new LinkedHashMap<>();
        runs.forEach(r -> lastPerJob.put(r.job(), r));
        for (RunRecord r : lastPerJob.values()) {
            if (!r.succeeded()) {
                warnings.add("failed: the last run of job " + r.job() + " (" + r.finished() + ") failed: " + r.error());
            }
        }
        if (lastDrill == null) {
            if (rtoTarget != null) {
                warnings.add("no restore drill recorded: the RTO target of " + Runs.human(rtoTarget) + " is unproven");
            }
        } else if (lastDrill.succeeded() && rtoTarget != null && lastDrill.durationMillis() > rtoTarget.toMillis()) {
            warnings.add("RTO exceeded: the last restore drill took " + Runs.human(Duration.ofMillis(lastDrill.durationMillis()))
                    + ", more than the target of " + Runs.human(rtoTarget));
        }
        return new RepositoryStatus(repository.location(), now, List.copyOf(snapshots), List.copyOf(runs), newest, lag, rpoTarget,
                rtoTarget, lastDrill, verifications, warnings);
    }

    /** Age of the newest recoverable point; empty when there is none. */
    public Optional<Duration> rpo() {
        return Optional.ofNullable(newestRecoverablePoint).map(p -> Duration.between(p, checked));
    }

    public boolean rpoExceeded() {
        return rpoTarget != null && rpo().map(r -> r.compareTo(rpoTarget) > 0).orElse(true);
    }

    /** The last successful drill's restore time. */
    public Optional<Duration> rto() {
        return lastDrill == null || !lastDrill.succeeded() ? Optional.empty() : Optional.of(Duration.ofMillis(lastDrill.durationMillis()));
    }

    public boolean rtoExceeded() {
        return rtoTarget != null && (lastDrill == null || !lastDrill.succeeded() || lastDrill.durationMillis() > rtoTarget.toMillis());
    }

    public Optional<Snapshot> latest() {
        return snapshots.isEmpty() ? Optional.empty() : Optional.of(snapshots.get(snapshots.size() - 1));
    }

    /** Healthy when there are no warnings. */
    public boolean healthy() {
        return warnings.isEmpty();
    }
}
