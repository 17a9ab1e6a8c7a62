package io.backupkit;

import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.LockManager;
import io.backupkit.spi.LogRetention;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.stream.Collectors;

/**
 * Removes the snapshots a {@link RetentionPolicy} does not keep. Only manifests are deleted; the data
 * they alone used is freed by {@link PruneManager}. A policy that would leave a group without any
 * snapshot is refused unless {@link Builder#allowRemoveAll(boolean)}.
 *
 * <p>After the manifests are gone it runs every {@link LogRetention} (found with {@link ServiceLoader},
 * e.g. backup-postgres' WAL retention) with the snapshots that stay, so logs no remaining snapshot needs
 * for point-in-time recovery are removed too (in a dry run: listed). An engine's log retention is put off
 * (and {@link ForgetResult.LogsExpired#notes()} says so) while a backup runs that started before that
 * engine's oldest remaining snapshot: it may need older logs than any remaining snapshot does.
 *
 * <pre>{@code
 * ForgetResult r = ForgetManager.builder().repository(repo)
 *         .policy(RetentionPolicy.builder().keepDaily(7).keepWeekly(4).build())
 *         .build().forget();
 * }</pre>
 */
public final class ForgetManager {
    private final Repository repository;
    private final RetentionPolicy policy;
    private final boolean dryRun;
    private final boolean allowRemoveAll;
    private final List<LogRetention> logRetentions;

    /** A backup lock taken this long after a snapshot's time may still be of a backup older than it: the clock skew prune accepts. */
    private static final Duration SKEW_MARGIN = Duration.ofMinutes(5);

    private ForgetManager(Builder b) {
        this.repository = Objects.requireNonNull(b.repository, "repository is required");
        this.policy = Objects.requireNonNull(b.policy, "policy is required");
        this.dryRun = b.dryRun;
        this.allowRemoveAll = b.allowRemoveAll;
        if (!b.logRetention) {
            this.logRetentions = List.of();
        } else if (b.logRetentions != null) {
            this.logRetentions = List.copyOf(b.logRetentions);
        } else {
            List<LogRetention> found = new ArrayList<>();
            ServiceLoader.load(LogRetention.class).forEach(found::add);
            found.sort(Comparator.comparing(LogRetention::engine));
            this.logRetentions = List.copyOf(found);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Applies the policy and deletes the manifests of the snapshots it does not keep.
     *
     * @throws ConfigurationException for an empty policy, or one that would remove every snapshot of a group
     */
    public ForgetResult forget() {
        if (policy.isEmpty()) {
            throw new ConfigurationException("the policy has no keep rule, so it would remove every snapshot; give at least one "
                    + "(--keep-last, --keep-daily, --keep-within, --keep-tag, …)");
        }
        if (!(repository instanceof DefaultRepository d)) {
            throw new ConfigurationException("repository must come from Repository.builder()");
        }
        try (LockManager.Lock lock = d.locks().acquire(LockManager.SHARED, dryRun ? "forget (dry run)" : "forget")) {
            RetentionPlan plan = policy.apply(repository.snapshots().summaries(), Instant.now());
            if (!allowRemoveAll && !plan.emptiedGroups().isEmpty()) {
                String groups = plan.emptiedGroups().stream().map(g -> g.key() + " (" + g.remove().size() + " snapshots)")
                        .collect(Collectors.joining("; "));
                throw new ConfigurationException("the policy (" + policy.describe() + ") keeps no snapshot of " + groups
                        + "; refusing to remove them all (allow it with --force, or ForgetManager.Builder.allowRemoveAll); nothing was removed");
            }
            if (!dryRun) {
                for (SnapshotSummary s : plan.toRemove()) {
                    lock.checkHeld("removing snapshot " + s.shortId());
                    d.forgetSnapshot(s.id());
                }
            }
            List<ForgetResult.LogsExpired> logs = new ArrayList<>();
            for (LogRetention retention : logRetentions) {
                logs.add(expireLogs(d, lock, retention, plan));
            }
            return new ForgetResult(plan, plan.toRemove(), dryRun, logs);
        }
    }

    private ForgetResult.LogsExpired expireLogs(DefaultRepository d, LockManager.Lock lock, LogRetention retention, RetentionPlan plan) {
        String engine = retention.engine();
        // the snapshots that stay, whatever the engine (an implementation picks its own); loaded whole only for this
        // engine, since only those carry what log retention reads (system id, start position)
        List<SnapshotSummary> kept = plan.toKeep().stream().filter(s -> engine.equals(s.engine())).toList();
        Optional<Instant> oldestKept = kept.stream().map(SnapshotSummary::time).min(Comparator.naturalOrder());
        if (oldestKept.isPresent()) {
            Instant before = oldestKept.get().plus(SKEW_MARGIN);
            for (LockManager.Listed l : d.locks().list()) {
                if (l.name().equals(lock.name()) || d.locks().isStale(l) || !l.info().operation().startsWith("backup")) {
                    continue;
                }
                Instant started = l.info().created() != null ? l.info().created() : l.createdStorage();
                if (started != null && started.isBefore(before)) {
                    return new ForgetResult.LogsExpired(engine, List.of(), 0, List.of("put off: " + l.info().holder()
                            + " started at " + started + ", before (or within " + SKEW_MARGIN.toMinutes() + " min of) the oldest "
                            + "remaining " + engine + " snapshot; it may need older logs; the next forget expires them"));
                }
            }
        }
        // read one manifest at a time as the retention walks the list (a logical snapshot's metadata can be large,
        // and a thousand of them need not be in memory at once); by id, so no listing per snapshot
        List<Snapshot> retained = new java.util.AbstractList<>() {
            @Override
            public Snapshot get(int i) {
                String id = kept.get(i).id();
                try {
                    return d.manifest(id).toSnapshot(id);
                } catch (ObjectNotFoundException gone) {
                    throw new ConfigurationException("snapshot " + kept.get(i).shortId() + " was removed by another process while "
                            + "its logs were being expired; nothing more was expired: run forget again", gone);
                }
            }

            @Override
            public int size() {
                return kept.size();
            }
        };
        lock.checkHeld("expiring " + engine + " logs");
        try {
            LogRetention.Result r = retention.apply(repository, retained, dryRun);
            return new ForgetResult.LogsExpired(engine, r.objects(), r.bytes(), r.notes());
        } catch (BackupException e) {
            throw new BackupException((dryRun ? "" : plan.toRemove().size() + " snapshot(s) were forgotten, but ") + "expiring the "
                    + engine + " logs failed: " + e.getMessage() + (dryRun ? "" : "; run forget again to expire them"), e);
        }
    }

    /** Configures a {@link ForgetManager}. */
    public static final class Builder {
        private Repository repository;
        private RetentionPolicy policy;
        private boolean dryRun;
        private boolean allowRemoveAll;
        private boolean logRetention = true;
        private List<LogRetention> logRetentions;

        private Builder() {
        }

        public Builder repository(Repository repository) {
            this.repository = repository;
            return this;
        }

        public Builder policy(RetentionPolicy policy) {
            this.policy = policy;
            return this;
        }

        /** Report what would be removed, remove nothing. */
        public Builder dryRun(boolean dryRun) {
            this.dryRun = dryRun;
            return this;
        }

        /** Allow a policy to remove every snapshot of a group (refused otherwise). */
        public Builder allowRemoveAll(boolean allow) {
            this.allowRemoveAll = allow;
            return this;
        }

        /**
         * Whether to expire logs (WAL, binary logs) no remaining snapshot needs, with every {@link LogRetention}
         * on the class path (default true).
         */
        public Builder logRetention(boolean enabled) {
            this.logRetention = enabled;
            return this;
        }

        /** Use these log retentions instead of those {@link ServiceLoader} finds. */
        public Builder logRetentions(List<LogRetention> retentions) {
            this.logRetentions = List.copyOf(retentions);
            return this;
        }

        public ForgetManager build() {
            return new ForgetManager(this);
        }
    }
}
