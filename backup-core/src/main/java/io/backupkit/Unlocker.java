package io.backupkit;

import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.LockManager;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Removes locks left by processes that died: locks not refreshed for the stale time (30 minutes), and
 * locks of processes on this host that no longer run. With {@link Builder#force(boolean)} it removes
 * every lock, also those of running processes: a running backup then notices at its next refresh and
 * stops without committing, a running prune stops before its next delete.
 *
 * <pre>{@code
 * UnlockResult r = Unlocker.builder().repository(repo).build().unlock();
 * r.removed().forEach(l -> log.info("removed stale lock of {}", l.holder()));
 * }</pre>
 */
public final class Unlocker {
    private final Repository repository;
    private final boolean force;
    private final boolean dryRun;

    private Unlocker(Builder b) {
        this.repository = Objects.requireNonNull(b.repository, "repository is required");
        this.force = b.force;
        this.dryRun = b.dryRun;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Every lock of the repository, with whether it is stale and why. A lock is stale when not refreshed for
     * the stale time both by its holder's clock and by the storage's (the time of its newest lock object),
     * so a host whose clock runs behind never has a live lock called stale; or when its holder is a process
     * on this host that is gone.
     */
    public List<LockSummary> list() {
        LockManager locks = internal().locks();
        // our own short lock tells this host's clock skew against the storage's
        Duration skew = Duration.ZERO;
        String own = null;
        try (LockManager.Lock probe = locks.acquire(LockManager.SHARED, "unlock")) {
            own = probe.name();
            if (probe.info().clockSkewMillis() != null) {
                skew = Duration.ofMillis(probe.info().clockSkewMillis());
            }
        } catch (RepositoryLockedException exclusiveHeld) {
            // an exclusive lock is held: list anyway, by the holders' clocks only
        }
        java.time.Instant storageNow = java.time.Instant.now().minus(skew);
        List<LockSummary> out = new ArrayList<>();
        for (LockManager.Listed l : locks.list()) {
            if (l.name().equals(own)) {
                continue;
            }
            LockManager.LockInfo i = l.info();
            Duration age = locks.age(l);
            Duration storageAge = java.time.Instant.EPOCH.equals(l.objectTime()) ? age : Duration.between(l.objectTime(), storageNow);
            String why;
            boolean stale;
            if (locks.isStale(l) && storageAge.compareTo(locks.timing().staleAfter()) > 0) {
                stale = true;
                why = "not refreshed for " + Math.min(age.toMinutes(), storageAge.toMinutes()) + " min";
            } else if (LockManager.heldByDeadLocalProcess(i)) {
                stale = true;
                why = "process " + i.pid() + " on this host is gone";
            } else {
                stale = false;
                why = "refreshed " + Math.max(0, Math.min(age.toSeconds(), storageAge.toSeconds())) + " s ago by a running process";
            }
            out.add(new LockSummary(l.name(), i.kind(), i.operation(), i.host(), i.pid(), i.created(), age, stale, why));
        }
        out.sort(java.util.Comparator.comparing(LockSummary::created, java.util.Comparator.nullsFirst(java.util.Comparator.naturalOrder())));
        return out;
    }

    /** Removes stale locks (all locks with force); reports what it removed and what it kept. */
    public UnlockResult unlock() {
        DefaultRepository repo = internal();
        List<LockSummary> removed = new ArrayList<>();
        List<LockSummary> kept = new ArrayList<>();
        for (LockSummary l : list()) {
            if (l.stale() || force) {
                if (!dryRun) {
                    repo.storage().delete(l.name());
                }
                removed.add(l);
            } else {
                kept.add(l);
            }
        }
        return new UnlockResult(removed, kept, force);
    }

    private DefaultRepository internal() {
        if (!(repository instanceof DefaultRepository d)) {
            throw new ConfigurationException("repository must come from Repository.builder()");
        }
        return d;
    }

    /** Configures an {@link Unlocker}. */
    public static final class Builder {
        private Repository repository;
        private boolean force;
        private boolean dryRun;

        private Builder() {
        }

        public Builder repository(Repository repository) {
            this.repository = repository;
            return this;
        }

        /** Remove every lock, also those of running processes (they stop before their next write). */
        public Builder force(boolean force) {
            this.force = force;
            return this;
        }

        /** Report what would be removed, remove nothing. */
        public Builder dryRun(boolean dryRun) {
            this.dryRun = dryRun;
            return this;
        }

        public Unlocker build() {
            return new Unlocker(this);
        }
    }
}
