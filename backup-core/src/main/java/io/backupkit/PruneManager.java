package io.backupkit;

import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.PruneRun;

import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Deletes data no snapshot references, safely while backups run: unused packs are deleted, packs with
 * more than {@link Builder#repackThreshold(double) a threshold} unused are rewritten with only their used
 * blobs, small index objects are merged. A backup never waits for a prune, and a blob a running backup
 * reuses is never deleted under it (two-phase deletion; see docs/architecture.md). Cost grows with
 * what is deleted, not with the repository: packs that stay are neither read nor rewritten.
 *
 * <pre>{@code
 * PruneResult r = PruneManager.builder().repository(repo).build().prune();
 * log.info("freed {} bytes, {} packs deleted, {} repacked", r.bytesFreed(), r.packsDeleted(), r.packsRepacked());
 * }</pre>
 */
public final class PruneManager {
    private final Repository repository;
    private final PruneRun.Options options;
    private final Consumer<String> progress;

    private PruneManager(Builder b) {
        this.repository = Objects.requireNonNull(b.repository, "repository is required");
        this.options = new PruneRun.Options(b.dryRun, b.repackThreshold, b.uncommittedGrace, b.maxClockSkew, b.timeMargin,
                java.util.Set.copyOf(b.assumeForgotten));
        this.progress = b.progress;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Prunes (or with {@code dryRun} reports what a prune would do).
     *
     * @throws RepositoryLockedException when another prune runs (names it)
     * @throws PruneRefusedException     when it cannot run safely now (says why); nothing was deleted
     * @throws IntegrityException        when the repository is damaged; nothing was deleted
     */
    public PruneResult prune() {
        if (!(repository instanceof DefaultRepository d)) {
            throw new ConfigurationException("repository must come from Repository.builder()");
        }
        return new PruneRun(d, options, progress).run();
    }

    /** Configures a {@link PruneManager}. */
    public static final class Builder {
        private Repository repository;
        private boolean dryRun;
        private double repackThreshold = 0.05;
        private Duration uncommittedGrace = Duration.ofHours(24);
        private Duration maxClockSkew = Duration.ofMinutes(5);
        private Duration timeMargin = Duration.ofSeconds(2);
        private Consumer<String> progress = s -> { };
        private final java.util.Set<String> assumeForgotten = new java.util.HashSet<>();

        private Builder() {
        }

        /**
         * For a dry run after a dry-run forget: treat these snapshots (full ids) as already forgotten, so the
         * report says what forget followed by prune would free.
         */
        public Builder assumeForgotten(java.util.Collection<String> snapshotIds) {
            this.assumeForgotten.addAll(snapshotIds);
            return this;
        }

        public Builder repository(Repository repository) {
            this.repository = repository;
            return this;
        }

        /** Report what would be deleted and freed, change nothing. */
        public Builder dryRun(boolean dryRun) {
            this.dryRun = dryRun;
            return this;
        }

        /** Rewrite packs of which more than this share is unused (0 to 1; default 0.05). */
        public Builder repackThreshold(double share) {
            if (!(share >= 0 && share <= 1)) {
                throw new ConfigurationException("repack threshold must be between 0 and 1 (a share of a pack), was " + share);
            }
            this.repackThreshold = share;
            return this;
        }

        /**
         * How long packs of a backup that did not finish are kept for a rerun to reuse (default 24 hours).
         * A backup's index checkpoints make its packs reusable; they become garbage only after this time.
         */
        public Builder uncommittedGrace(Duration grace) {
            if (grace.isNegative()) {
                throw new ConfigurationException("uncommitted grace must not be negative, was " + grace);
            }
            this.uncommittedGrace = grace;
            return this;
        }

        /**
         * The largest difference between a host's clock and the storage's that prune accepts, for itself
         * and for any running operation (default 5 minutes). Beyond it prune refuses and deletes nothing.
         */
        public Builder maxClockSkew(Duration skew) {
            if (skew.isNegative()) {
                throw new ConfigurationException("max clock skew must not be negative, was " + skew);
            }
            this.maxClockSkew = skew;
            return this;
        }

        /**
         * How far apart two storage times must be to count as ordered (default 2 s). Packs written less than this
         * before the prune started are left for the next prune.
         *
         * <p>It must cover the storage's time resolution (S3: whole seconds; a local file system's timestamps: a few
         * milliseconds on most, 2 s on FAT) and, where more than one clock stamps a store's objects (several gateways
         * or nodes behind one endpoint), the largest difference between those clocks. Why the resolution: a store
         * stamps an object during its write but shows it only once the write is done, so a backup's lock can carry a
         * later time than prune's mark (the next tick) while that backup read the index before the mark was visible.
         * Prune adds how long writing its mark took; a mark left by a prune killed before its final state is compared
         * as stamped, which the default's second beyond S3's resolution covers. 0 is for tests.
         *
         * <pre>{@code
         * // S3-compatible gateways whose clocks may be up to 3 s apart
         * PruneManager.builder().repository(repo).timeMargin(Duration.ofSeconds(5)).build().prune();
         * }</pre>
         */
        public Builder timeMargin(Duration margin) {
            if (margin.isNegative()) {
                throw new ConfigurationException("time margin must not be negative, was " + margin);
            }
            this.timeMargin = margin;
            return this;
        }

        /** Receives a line per phase ("reading snapshots", "deleting 12 packs", …). */
        public Builder progress(Consumer<String> progress) {
            this.progress = Objects.requireNonNull(progress);
            return this;
        }

        public PruneManager build() {
            return new PruneManager(this);
        }
    }
}
