package io.backupkit;

import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.LockManager;

import java.time.Instant;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Removes the snapshots a {@link RetentionPolicy} does not keep. Only manifests are deleted; the data
 * they alone used is freed by {@link PruneManager}. A policy that would leave a group without any
 * snapshot is refused unless {@link Builder#allowRemoveAll(boolean)}.
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

    private ForgetManager(Builder b) {
        this.repository = Objects.requireNonNull(b.repository, "repository is required");
        this.policy = Objects.requireNonNull(b.policy, "policy is required");
        this.dryRun = b.dryRun;
        this.allowRemoveAll = b.allowRemoveAll;
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
            return new ForgetResult(plan, plan.toRemove(), dryRun);
        }
    }

    /** Configures a {@link ForgetManager}. */
    public static final class Builder {
        private Repository repository;
        private RetentionPolicy policy;
        private boolean dryRun;
        private boolean allowRemoveAll;

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

        public ForgetManager build() {
            return new ForgetManager(this);
        }
    }
}
