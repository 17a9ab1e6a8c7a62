package io.backupkit.internal.repo;

import io.backupkit.ConfigurationException;
import io.backupkit.IntegrityException;
import io.backupkit.LockLostException;
import io.backupkit.ObjectNotFoundException;
import io.backupkit.RepositoryLockedException;
import io.backupkit.StorageException;
import io.backupkit.internal.Futures;
import io.backupkit.internal.HostName;
import io.backupkit.internal.Interrupts;
import io.backupkit.internal.Json;
import io.backupkit.internal.LocalProcess;
import io.backupkit.internal.crypto.Aead;
import io.backupkit.internal.crypto.Hashes;
import io.backupkit.internal.crypto.Sealer;
import io.backupkit.spi.ObjectInfo;
import io.backupkit.spi.Payload;
import io.backupkit.spi.Storage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Repository locks in {@code locks/}: shared while backing up, restoring or verifying; {@code prune}
 * while pruning (conflicts only with other prunes, so backups never wait); exclusive for operations
 * that must run alone. A lock is refreshed by writing a new lock object and deleting the old one.
 *
 * <p>A holder that cannot refresh its lock for {@link Timing#giveUpAfter()} (measured on its own
 * monotonic clock, so a paused process notices too), or whose lock object was removed by someone
 * else, has <em>lost</em> it: {@link Lock#checkHeld(String)} then throws and the holder writes nothing
 * more. Others consider a lock stale only after {@link Timing#staleAfter()}, which is longer, so a
 * lock that others may ignore is one its holder has already given up.
 */
public final class LockManager {
    public static final String SHARED = "shared";
    public static final String EXCLUSIVE = "exclusive";
    public static final String PRUNE = "prune";
    private static final Logger LOG = LoggerFactory.getLogger(LockManager.class);

    /**
     * How often locks are refreshed, when a holder gives up, when others call a lock stale.
     * Requires refreshEvery &lt; giveUpAfter &lt; staleAfter.
     */
    public record Timing(Duration refreshEvery, Duration giveUpAfter, Duration staleAfter) {
        public static final Timing DEFAULT = new Timing(Duration.ofMinutes(5), Duration.ofMinutes(15), Duration.ofMinutes(30));

        public Timing {
            if (refreshEvery.compareTo(giveUpAfter) >= 0 || giveUpAfter.compareTo(staleAfter) >= 0) {
                throw new IllegalArgumentException("lock timing needs refreshEvery < giveUpAfter < staleAfter: " + refreshEvery
                        + ", " + giveUpAfter + ", " + staleAfter);
            }
        }
    }

    /**
     * The stored form of a lock.
     *
     * @param createdStorage  the storage's time of the first lock object (from its listing), so others compare
     *                        it with other storage times whatever this host's clock says; null in locks of
     *                        older versions and in the very first object (its own listing time is that time)
     * @param clockSkewMillis this host's clock minus the storage's, measured when the lock was taken; null when
     *                        the storage keeps no times
     * @param processStart    when the holding process started, to recognise a dead process on the same host
     */
    public record LockInfo(String kind, String host, long pid, String operation, Instant created, Instant refreshed,
                           Instant createdStorage, Long clockSkewMillis, Instant processStart) {
        public String holder() {
            return operation + " on " + host + " (pid " + pid + ")";
        }

        LockInfo refreshedAt(Instant now) {
            return new LockInfo(kind, host, pid, operation, created, now, createdStorage, clockSkewMillis, processStart);
        }
    }

    /** A lock object as listed: its name, its content and the storage's time of that object. */
    public record Listed(String name, LockInfo info, Instant objectTime) {
        /**
         * The holder's clock minus the storage's: as the holder measured it, or for a lock not refreshed yet
         * its creation time (holder's clock) against its object's time; null when unknown.
         */
        public Duration clockSkew() {
            if (info.clockSkewMillis() != null) {
                return Duration.ofMillis(info.clockSkewMillis());
            }
            if (info.created() != null && info.created().equals(info.refreshed()) && objectTime != null
                    && !Instant.EPOCH.equals(objectTime)) {
                return Duration.between(objectTime, info.created());
            }
            return null;
        }

        /** When the lock was first taken, in storage time (or the holder's clock when the storage keeps no times). */
        public Instant createdStorage() {
            if (info.createdStorage() != null) {
                return info.createdStorage();
            }
            if (info.refreshed() != null && info.created() != null && info.created().equals(info.refreshed())
                    && !Instant.EPOCH.equals(objectTime)) {
                return objectTime;
            }
            return info.created();
        }
    }

    private final Storage storage;
    private final Sealer sealer;
    private final Clock clock;
    private final Timing timing;

    public LockManager(Storage storage, Sealer sealer) {
        this(storage, sealer, Clock.systemUTC(), Timing.DEFAULT);
    }

    /** With a clock of its own, so tests can hold locks that look old. */
    public LockManager(Storage storage, Sealer sealer, Clock clock) {
        this(storage, sealer, clock, Timing.DEFAULT);
    }

    public LockManager(Storage storage, Sealer sealer, Clock clock, Timing timing) {
        this.storage = storage;
        this.sealer = sealer;
        this.clock = clock;
        this.timing = timing;
    }

    public Timing timing() {
        return timing;
    }

    /** A held lock; close() releases it. */
    public final class Lock implements AutoCloseable {
        private final LockInfo info;
        private final ScheduledExecutorService refresher;
        // guarded by this
        private String name;
        private long lastRefreshNanos;
        private boolean closed;
        private volatile String lostReason;

        private Lock(LockInfo info, String name, long takenNanos) {
            this.info = info;
            this.name = name;
            this.lastRefreshNanos = takenNanos;
            this.refresher = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "backupkit-lock-refresh");
                t.setDaemon(true);
                return t;
            });
            schedule(timing.refreshEvery());
        }

        private void schedule(Duration delay) {
            try {
                refresher.schedule(this::refresh, Math.max(1, delay.toMillis()), TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException closing) {
                // close() shut the refresher down
            }
        }

        /** The lock's current object name. */
        public synchronized String name() {
            return name;
        }

        public LockInfo info() {
            return info;
        }

        /** Writes a fresh lock object and deletes the previous one; after repeated failures the lock is lost. */
        synchronized void refresh() {
            if (closed || lostReason != null) {
                return;
            }
            long started = System.nanoTime();
            try {
                if (storage.stat(name).isEmpty()) {
                    lose("its lock object " + name + " was removed by another process (unlock --force?)");
                    return;
                }
                String fresh = write(info.refreshedAt(clock.instant()));
                String old = name;
                if (storage.stat(old).isEmpty()) {
                    // removed while we wrote the new one: someone meant to take the lock away
                    storage.delete(fresh);
                    lose("its lock object " + old + " was removed by another process (unlock --force?)");
                    return;
                }
                name = fresh;
                lastRefreshNanos = started;
                try {
                    storage.delete(old);
                } catch (RuntimeException e) {
                    LOG.warn("deleting the previous lock object {} failed: {}", old, e.getMessage());
                }
                schedule(timing.refreshEvery());
            } catch (RuntimeException e) {
                Duration since = Duration.ofNanos(System.nanoTime() - lastRefreshNanos);
                if (since.compareTo(timing.giveUpAfter()) >= 0) {
                    lose("it could not be refreshed for " + since.toSeconds() + " s (" + e.getMessage() + ")");
                } else {
                    LOG.warn("refreshing lock {} failed, retrying: {}", name, e.getMessage());
                    schedule(timing.refreshEvery().dividedBy(10));
                }
            }
        }

        private void lose(String why) {
            lostReason = why;
            LOG.error("{} lost its repository lock: {}; it stops before its next write", info.holder(), why);
        }

        /** True while the lock is certainly ours: not lost, not closed, refreshed within the give-up time. */
        public boolean isHeld() {
            return heldProblem() == null;
        }

        private synchronized String heldProblem() {
            if (closed) {
                return "the lock was released";
            }
            if (lostReason != null) {
                return lostReason;
            }
            // also catches a process that was paused (GC, suspended VM) while its refresher could not run
            Duration since = Duration.ofNanos(System.nanoTime() - lastRefreshNanos);
            if (since.compareTo(timing.giveUpAfter()) >= 0) {
                return "it was last refreshed " + since.toSeconds() + " s ago";
            }
            return null;
        }

        /**
         * Throws unless the lock is held; call before every write that makes work visible to others.
         *
         * @param beforeWhat what the caller was about to do, for the message
         */
        public void checkHeld(String beforeWhat) {
            String problem = heldProblem();
            if (problem != null) {
                throw new LockLostException(info.holder() + " lost its lock on " + storage.location() + " (" + problem
                        + ") and stopped before " + beforeWhat + "; nothing more was written");
            }
        }

        @Override
        public void close() {
            synchronized (this) {
                // a refresh in progress holds the monitor: it finishes first, so the name deleted below is the last one
                if (closed) {
                    return;
                }
                closed = true;
            }
            refresher.shutdownNow();
            String last;
            synchronized (this) {
                last = name;
            }
            try {
                // closed after an interrupted engine call too: a storage call on an interrupted thread fails
                // (S3 SDK, FileChannel), and the lock would stay until stale
                Interrupts.uninterrupted(() -> storage.delete(last));
            } catch (RuntimeException e) {
                LOG.warn("releasing lock {} failed: {}", last, e.getMessage());
            }
        }
    }

    /**
     * Takes a lock.
     *
     * @param exclusive true for an exclusive lock (conflicts with every other lock), false for a shared one
     */
    public Lock acquire(boolean exclusive, String operation) {
        return acquire(exclusive ? EXCLUSIVE : SHARED, operation);
    }

    /** Takes a lock of {@code kind} ({@link #SHARED}, {@link #PRUNE} or {@link #EXCLUSIVE}). */
    public Lock acquire(String kind, String operation) {
        return acquire(kind, operation, null);
    }

    /**
     * Takes a lock of {@code kind} and runs {@code onceVisible} (null: nothing) on a thread of its own as soon as the
     * lock object is written, beside the second conflict check (whose listing also gives the storage's time of the lock
     * object); returns once both have ended.
     * What needs the lock held before it starts, but not its conflict check done, goes there: a restore's index read,
     * which must not begin before a prune can see the lock (docs/architecture.md, prune item 5) and on S3 is a round
     * trip of its own after the lock's. If the check finds a conflict or {@code onceVisible} fails, the lock object is
     * removed once both have ended and the failure is thrown (the conflict first); what {@code onceVisible} read is
     * then the caller's to discard.
     */
    public Lock acquire(String kind, String operation, Runnable onceVisible) {
        if (EXCLUSIVE.equals(kind) && !storage.atomicPutIfAbsent()) {
            // an exclusive holder deletes data; on a store that cannot keep two writers of one name apart
            // we refuse rather than promise an exclusion the store does not give (prune needs no such lock)
            throw new ConfigurationException("cannot take an exclusive lock for " + operation + " on " + storage.location()
                    + ": the store does not refuse to overwrite existing objects (it ignores If-None-Match), so two"
                    + " processes could both believe they hold the lock; run " + operation
                    + " against a store with conditional writes (AWS S3, S3Proxy, recent MinIO or Ceph)");
        }
        checkConflicts(kind, null);
        Instant now = clock.instant();
        Instant processStart = LocalProcess.currentStart().orElse(null);
        LockInfo first = new LockInfo(kind, HostName.get(), ProcessHandle.current().pid(), operation, now, now, null, null,
                processStart);
        long taken = System.nanoTime();
        String name = write(first);
        LockInfo info = first;
        CompletableFuture<Void> beside = CompletableFuture.completedFuture(null);
        try {
            if (onceVisible != null) {
                beside = Futures.onDaemonThread("backupkit-lock-beside", () -> {
                    onceVisible.run();
                    return null;
                });
            }
            // two writers may have checked at the same time: check again now that ours is visible
            // the storage's time of our own lock object (later copies carry it, so others compare storage times): as
            // that listing shows it, the kind of time others compare it with; a stat only where the listing does not
            // show the object yet or keeps no times (on S3 the listing saves a request per lock taken). A stat's time
            // may be of another kind than listings' (S3-compatible stores: HEAD whole seconds, listings milliseconds),
            // so it is cut to the whole second: then it is never after the time a listing shows, on any store whose
            // listings have whole seconds or finer, and a lock that looks older only makes prune wait longer for it
            Optional<Instant> own = checkConflicts(kind, name).flatMap(ObjectInfo::storageTime);
            if (own.isEmpty()) {
                own = storage.stat(name).flatMap(ObjectInfo::storageTime).map(t -> t.truncatedTo(ChronoUnit.SECONDS));
            }
            if (own.isPresent()) {
                Instant storageTime = own.get();
                info = new LockInfo(kind, first.host(), first.pid(), operation, now, now, storageTime,
                        Duration.between(storageTime, now).toMillis(), processStart);
            }
            Futures.join(beside);
        } catch (RuntimeException | Error e) {
            // an Error too (the index read beside running out of heap): the lock object would otherwise stay, looking
            // live to every prune until stale, while no refresher runs for it.
            // The work beside ends first, so nothing of this lock is in flight once acquire has failed; its own failure,
            // when it is not the one thrown (a conflict is thrown first), goes with it
            Throwable besideFailure = Futures.failure(beside);
            if (besideFailure != null && besideFailure != e) {
                e.addSuppressed(besideFailure);
            }
            try {
                // an interrupted caller (a restore being stopped) too: a storage call on an interrupted thread fails
                // (S3 SDK, FileChannel), and the lock object would stay until stale
                Interrupts.uninterrupted(() -> storage.delete(name));
            } catch (RuntimeException deleteFailed) {
                // what made acquire fail is what the caller needs to see; the lock object goes stale on its own
                e.addSuppressed(deleteFailed);
            }
            throw e;
        }
        return new Lock(info, name, taken);
    }

    private String write(LockInfo info) {
        try {
            byte[] stored = sealer.seal(Json.MAPPER.writeValueAsBytes(info), Formats.AD_LOCK);
            String name = Formats.LOCKS + Hashes.hex(Aead.randomBytes(16));
            // 128 random bits: no other writer uses this name, so the storage may skip what keeps two writers of a
            // name apart (on S3 the probe whether If-None-Match is honoured: three requests before every lock)
            storage.putNew(name, Payload.of(stored));
            return name;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Whether the lock's holder is a process on this host that no longer runs (its pid is gone, or now
     * belongs to a process that started at another time).
     */
    public static boolean heldByDeadLocalProcess(LockInfo info) {
        return LocalProcess.gone(info.host(), info.pid(), info.processStart());
    }

    static boolean conflicts(String mine, String theirs) {
        if (EXCLUSIVE.equals(mine) || EXCLUSIVE.equals(theirs)) {
            return true;
        }
        return PRUNE.equals(mine) && PRUNE.equals(theirs);
    }

    /** Throws if a listed lock conflicts with one of {@code kind}; returns {@code own} (null: none) as listed, if it is. */
    private Optional<ObjectInfo> checkConflicts(String kind, String own) {
        Listing listing = list(own);
        for (Listed other : listing.others()) {
            if (!conflicts(kind, other.info().kind())) {
                continue;
            }
            if (PRUNE.equals(kind) && PRUNE.equals(other.info().kind()) && heldByDeadLocalProcess(other.info())) {
                // a prune killed on this host: prunes are safe against each other anyway, so its lock does not block
                LOG.warn("ignoring the prune lock {} of {}: that process is gone (backupkit unlock removes it)", other.name(),
                        other.info().holder());
                continue;
            }
            Duration age = age(other);
            boolean stale = age.compareTo(timing.staleAfter()) > 0;
            String what = stale ? "a stale " : "";
            throw new RepositoryLockedException("repository " + storage.location() + " is locked by " + what + other.info().kind()
                    + " lock of " + other.info().holder() + ", last refreshed " + age.toMinutes() + " min ago"
                    + (stale ? "; if that process is gone, run backupkit unlock (removes " + other.name() + ")" : ""),
                    other.info().holder(), age, stale);
        }
        return listing.own();
    }

    /** Time since the lock was last refreshed, by this host's clock. */
    public Duration age(Listed lock) {
        Instant refreshed = lock.info().refreshed() != null ? lock.info().refreshed() : lock.objectTime();
        Duration age = Duration.between(refreshed, clock.instant());
        return age.isNegative() ? Duration.ZERO : age;
    }

    /** Whether others may ignore this lock: not refreshed for {@link Timing#staleAfter()}. */
    public boolean isStale(Listed lock) {
        return age(lock).compareTo(timing.staleAfter()) > 0;
    }

    /**
     * Every readable lock object; unreadable ones are skipped with a warning (they block nothing). A lock
     * object that vanished between the listing and its read was released, or refreshed: a refresh writes
     * the new object before it deletes the old one, so the locks are listed again until none vanishes.
     * Otherwise a holder refreshing at that moment would be missing, and prune would not wait for it.
     */
    public List<Listed> list() {
        return list(null).others();
    }

    /** The other lock objects, read, and our own as listed (empty when the listing does not show it). */
    private record Listing(List<Listed> others, Optional<ObjectInfo> own) {
    }

    /**
     * {@link #list()} without {@code own} (our own lock, or null): it is neither read nor returned; reading it
     * back would cost a request on S3 at every lock taken, for a conflict check that skips it anyway. Its entry in
     * the last listing is returned beside the others: the storage's time of it.
     */
    private Listing list(String own) {
        java.util.Map<String, Listed> read = new java.util.LinkedHashMap<>();
        for (int attempt = 1; ; attempt++) {
            boolean vanished = false;
            java.util.Set<String> listed = new java.util.HashSet<>();
            ObjectInfo ownListed = null;
            for (ObjectInfo o : storage.list(Formats.LOCKS)) {
                listed.add(o.name());
                if (o.name().equals(own)) {
                    ownListed = o;
                    continue;
                }
                if (read.containsKey(o.name())) {
                    continue;
                }
                try {
                    read.put(o.name(), new Listed(o.name(), read(o.name()), o.modified()));
                } catch (ObjectNotFoundException gone) {
                    vanished = true;
                } catch (IntegrityException e) {
                    LOG.warn("ignoring unreadable lock object {}: {}", o.name(), e.getMessage());
                }
            }
            if (!vanished) {
                // what the last (complete) listing holds: locks released meanwhile are gone from it
                read.keySet().retainAll(listed);
                return new Listing(new ArrayList<>(read.values()), Optional.ofNullable(ownListed));
            }
            if (attempt >= LIST_ATTEMPTS) {
                throw new StorageException("the locks of " + storage.location() + " kept changing while they were read ("
                        + LIST_ATTEMPTS + " listings); try again", true);
            }
        }
    }

    private static final int LIST_ATTEMPTS = 5;

    private LockInfo read(String name) {
        byte[] stored = storage.readAll(name);
        byte[] plain = sealer.open(stored, Formats.AD_LOCK)
                .orElseThrow(() -> new IntegrityException(name, "lock fails authentication"));
        try {
            return Json.MAPPER.readValue(plain, LockInfo.class);
        } catch (IOException e) {
            throw new IntegrityException(name, "lock is unreadable", e);
        }
    }
}
