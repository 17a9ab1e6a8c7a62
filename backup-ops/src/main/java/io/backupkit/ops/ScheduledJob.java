package io.backupkit.ops;

import io.backupkit.BackupManager;
import io.backupkit.ConfigurationException;
import io.backupkit.Repository;
import io.backupkit.VerificationLevel;
import io.backupkit.spi.RestoreTarget;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * A job for the {@link BackupScheduler}: a backup (optionally verified, then followed by an
 * after-verify step such as retention), or a restore drill that restores the newest snapshot into a
 * scratch target and records how long it took (the measured RTO). Immutable.
 *
 * <pre>{@code
 * ScheduledJob nightly = ScheduledJob.backup("nightly-shop", backupManager)
 *         .schedule(Schedule.cron("30 2 * * *", ZoneId.of("Europe/Berlin")))
 *         .jitter(Duration.ofMinutes(5))
 *         .retry(RetryPolicy.exponential(3, Duration.ofMinutes(1), Duration.ofMinutes(15)))
 *         .verify(VerificationLevel.STANDARD)
 *         .rpoTarget(Duration.ofHours(25))
 *         .build();
 * ScheduledJob drill = ScheduledJob.drill("weekly-drill", PostgresTarget.builder().url(scratchServer).build())
 *         .of("nightly-shop")
 *         .schedule(Schedule.cron("0 5 * * SUN", ZoneId.of("Europe/Berlin")))
 *         .rtoTarget(Duration.ofMinutes(30))
 *         .build();
 * }</pre>
 */
public final class ScheduledJob {
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");

    /** What a job does. */
    public enum Kind { BACKUP, DRILL }

    private final String name;
    private final Kind kind;
    private final Schedule schedule;
    private final BackupManager backup;
    private final VerificationLevel verifyLevel;
    private final RestoreTarget scratchTarget;
    private final String drillOf;
    private final Duration jitter;
    private final RetryPolicy retry;
    private final MissedRunPolicy missedRuns;
    private final Duration rpoTarget;
    private final Duration rtoTarget;
    private final Duration staleAfter;
    private final Duration lockTtl;
    private final Consumer<Repository> afterVerify;

    private ScheduledJob(Builder b) {
        this.name = b.name;
        this.kind = b.kind;
        this.schedule = Objects.requireNonNull(b.schedule, () -> "job " + b.name + ": a schedule is required");
        this.backup = b.backup;
        this.verifyLevel = b.verifyLevel;
        this.scratchTarget = b.scratchTarget;
        this.drillOf = b.drillOf;
        this.jitter = b.jitter;
        this.retry = b.retry;
        this.missedRuns = b.missedRuns;
        this.rpoTarget = b.rpoTarget;
        this.rtoTarget = b.rtoTarget;
        this.staleAfter = b.staleAfter;
        this.lockTtl = b.lockTtl;
        this.afterVerify = b.afterVerify;
        if (kind == Kind.BACKUP && verifyLevel == VerificationLevel.COMPREHENSIVE && scratchTarget == null) {
            throw new ConfigurationException("job " + name + ": COMPREHENSIVE verification needs a scratchTarget to restore into");
        }
        if (afterVerify != null && verifyLevel == null) {
            throw new ConfigurationException("job " + name + ": an after-verify step (e.g. retention) runs only after a "
                    + "verification that passed: set verify(level) too");
        }
    }

    /** A backup job. The scheduler tags every snapshot with {@code job=<name>} and {@code tick=<instant>}. */
    public static Builder backup(String name, BackupManager backupManager) {
        Builder b = new Builder(name, Kind.BACKUP);
        b.backup = Objects.requireNonNull(backupManager, "backupManager");
        return b;
    }

    /**
     * A restore drill: a COMPREHENSIVE verification of the newest snapshot, which restores it into a
     * scratch database on {@code scratchTarget}, compares it and drops it. Its wall time is the measured RTO.
     */
    public static Builder drill(String name, RestoreTarget scratchTarget) {
        Builder b = new Builder(name, Kind.DRILL);
        b.scratchTarget = Objects.requireNonNull(scratchTarget, "scratchTarget");
        b.verifyLevel = VerificationLevel.COMPREHENSIVE;
        return b;
    }

    public String name() {
        return name;
    }

    public Kind kind() {
        return kind;
    }

    public Schedule schedule() {
        return schedule;
    }

    public Optional<BackupManager> backupManager() {
        return Optional.ofNullable(backup);
    }

    public Optional<VerificationLevel> verifyLevel() {
        return Optional.ofNullable(verifyLevel);
    }

    public Optional<RestoreTarget> scratchTarget() {
        return Optional.ofNullable(scratchTarget);
    }

    /** For a drill: the backup job whose newest snapshot it restores (empty: the newest of all). */
    public Optional<String> drillOf() {
        return Optional.ofNullable(drillOf);
    }

    public Duration jitter() {
        return jitter;
    }

    public RetryPolicy retry() {
        return retry;
    }

    public MissedRunPolicy missedRuns() {
        return missedRuns;
    }

    public Optional<Duration> rpoTarget() {
        return Optional.ofNullable(rpoTarget);
    }

    public Optional<Duration> rtoTarget() {
        return Optional.ofNullable(rtoTarget);
    }

    public Duration lockTtl() {
        return lockTtl;
    }

    public Optional<Consumer<Repository>> afterVerify() {
        return Optional.ofNullable(afterVerify);
    }

    /**
     * How old the last success may get before the job is stale: as set, or else twice the longest
     * gap between the next ticks after {@code now}, plus the jitter and all retry delays.
     */
    public Duration staleAfter(Instant now) {
        if (staleAfter != null) {
            return staleAfter;
        }
        Duration longest = Duration.ZERO;
        Instant t = schedule.nextAfter(now).orElse(now);
        for (int i = 0; i < 8; i++) {
            Optional<Instant> n = schedule.nextAfter(t);
            if (n.isEmpty()) {
                break;
            }
            Duration gap = Duration.between(t, n.get());
            if (gap.compareTo(longest) > 0) {
                longest = gap;
            }
            t = n.get();
        }
        return longest.multipliedBy(2).plus(jitter).plus(retry.totalDelay());
    }

    @Override
    public String toString() {
        return kind.name().toLowerCase(java.util.Locale.ROOT) + " job " + name + " (" + schedule.describe() + ")";
    }

    /** Builds a {@link ScheduledJob}; not thread-safe. */
    public static final class Builder {
        private final String name;
        private final Kind kind;
        private Schedule schedule;
        private BackupManager backup;
        private VerificationLevel verifyLevel;
        private RestoreTarget scratchTarget;
        private String drillOf;
        private Duration jitter = Duration.ZERO;
        private RetryPolicy retry = RetryPolicy.none();
        private MissedRunPolicy missedRuns = MissedRunPolicy.RUN_ONCE;
        private Duration rpoTarget;
        private Duration rtoTarget;
        private Duration staleAfter;
        private Duration lockTtl = Duration.ofMinutes(2);
        private Consumer<Repository> afterVerify;

        private Builder(String name, Kind kind) {
            if (name == null || !NAME.matcher(name).matches()) {
                throw new ConfigurationException("invalid job name '" + name + "': use 1-63 characters of a-z, 0-9, '.', '_', '-', "
                        + "starting with a letter or digit");
            }
            this.name = name;
            this.kind = kind;
        }

        public Builder schedule(Schedule schedule) {
            this.schedule = Objects.requireNonNull(schedule);
            return this;
        }

        /** Each run starts a random delay in [0, jitter) after its tick, so replicas and jobs spread out. */
        public Builder jitter(Duration jitter) {
            if (jitter == null || jitter.isNegative()) {
                throw new ConfigurationException("jitter must not be negative, was " + jitter);
            }
            this.jitter = jitter;
            return this;
        }

        public Builder retry(RetryPolicy retry) {
            this.retry = Objects.requireNonNull(retry);
            return this;
        }

        public Builder missedRuns(MissedRunPolicy policy) {
            this.missedRuns = Objects.requireNonNull(policy);
            return this;
        }

        /** Verify each new snapshot at this level (backup jobs); a failed verification fails the run. */
        public Builder verify(VerificationLevel level) {
            this.verifyLevel = level;
            return this;
        }

        /** Where COMPREHENSIVE verification (and a drill) restores to. */
        public Builder scratchTarget(RestoreTarget target) {
            this.scratchTarget = target;
            return this;
        }

        /** For a drill: restore the newest snapshot of this backup job. */
        public Builder of(String backupJobName) {
            this.drillOf = backupJobName;
            return this;
        }

        /** The recovery point objective: health and metrics compare the age of the newest snapshot with it. */
        public Builder rpoTarget(Duration target) {
            this.rpoTarget = positive(target, "rpoTarget");
            return this;
        }

        /** The recovery time objective: a drill slower than this turns health unhealthy. */
        public Builder rtoTarget(Duration target) {
            this.rtoTarget = positive(target, "rtoTarget");
            return this;
        }

        /** Stale when the last success is older than this (default: see {@link ScheduledJob#staleAfter}). */
        public Builder staleAfter(Duration age) {
            this.staleAfter = positive(age, "staleAfter");
            return this;
        }

        /** How long the job lock outlives a holder that died (default 2 min); renewed while held. */
        public Builder lockTtl(Duration ttl) {
            this.lockTtl = positive(ttl, "lockTtl");
            return this;
        }

        /**
         * A step run after a verification that passed, e.g. applying a retention policy, so that old
         * snapshots are only forgotten once a newer one is proven restorable.
         */
        public Builder afterVerify(Consumer<Repository> step) {
            this.afterVerify = step;
            return this;
        }

        public ScheduledJob build() {
            return new ScheduledJob(this);
        }

        private static Duration positive(Duration d, String what) {
            if (d == null || d.isNegative() || d.isZero()) {
                throw new ConfigurationException(what + " must be positive, was " + d);
            }
            return d;
        }
    }
}
