package io.backupkit.internal.repo;

import io.backupkit.ConfigurationException;
import io.backupkit.IntegrityException;
import io.backupkit.ObjectNotFoundException;
import io.backupkit.RepositoryLockedException;
import io.backupkit.internal.HostName;
import io.backupkit.internal.Json;
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
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Repository locks in {@code locks/}: shared while backing up or restoring, exclusive for pruning.
 * A lock is refreshed by writing a new lock object and deleting the old one; a lock not refreshed
 * within {@link #STALE_AFTER} is stale and reported with its holder and age.
 */
public final class LockManager {
    public static final Duration REFRESH_EVERY = Duration.ofMinutes(5);
    public static final Duration STALE_AFTER = Duration.ofMinutes(30);
    private static final Logger LOG = LoggerFactory.getLogger(LockManager.class);

    private final Storage storage;
    private final Sealer sealer;

    /** The stored form of a lock. */
    public record LockInfo(String kind, String host, long pid, String operation, Instant created, Instant refreshed) {
        String holder() {
            return operation + " on " + host + " (pid " + pid + ")";
        }
    }

    private final Clock clock;

    public LockManager(Storage storage, Sealer sealer) {
        this(storage, sealer, Clock.systemUTC());
    }

    /** With a clock of its own, so tests can hold locks that look old. */
    public LockManager(Storage storage, Sealer sealer, Clock clock) {
        this.storage = storage;
        this.sealer = sealer;
        this.clock = clock;
    }

    /** A held lock; close() releases it. */
    public final class Lock implements AutoCloseable {
        private final LockInfo info;
        private volatile String name;
        private final ScheduledExecutorService refresher;
        private final ScheduledFuture<?> task;

        private Lock(LockInfo info, String name) {
            this.info = info;
            this.name = name;
            this.refresher = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "backupkit-lock-refresh");
                t.setDaemon(true);
                return t;
            });
            this.task = refresher.scheduleAtFixedRate(this::refresh, REFRESH_EVERY.toMillis(), REFRESH_EVERY.toMillis(),
                    TimeUnit.MILLISECONDS);
        }

        void refresh() {
            try {
                String old = name;
                name = write(new LockInfo(info.kind(), info.host(), info.pid(), info.operation(), info.created(), clock.instant()));
                storage.delete(old);
            } catch (RuntimeException e) {
                LOG.warn("refreshing lock {} failed: {}", name, e.getMessage());
            }
        }

        @Override
        public void close() {
            task.cancel(false);
            refresher.shutdownNow();
            try {
                storage.delete(name);
            } catch (RuntimeException e) {
                LOG.warn("releasing lock {} failed: {}", name, e.getMessage());
            }
        }
    }

    public Lock acquire(boolean exclusive, String operation) {
        if (exclusive && !storage.atomicPutIfAbsent()) {
            // an exclusive holder deletes data; on a store that cannot keep two writers of one name apart
            // we refuse rather than promise an exclusion the store does not give
            throw new ConfigurationException("cannot take an exclusive lock for " + operation + " on " + storage.location()
                    + ": the store does not refuse to overwrite existing objects (it ignores If-None-Match), so two"
                    + " processes could both believe they hold the lock; run " + operation
                    + " against a store with conditional writes (AWS S3, S3Proxy, recent MinIO or Ceph)");
        }
        checkConflicts(exclusive, null);
        LockInfo info = new LockInfo(exclusive ? "exclusive" : "shared", HostName.get(), ProcessHandle.current().pid(), operation,
                clock.instant(), clock.instant());
        String name = write(info);
        try {
            // two writers may have checked at the same time: check again now that ours is visible
            checkConflicts(exclusive, name);
        } catch (RuntimeException e) {
            storage.delete(name);
            throw e;
        }
        return new Lock(info, name);
    }

    private String write(LockInfo info) {
        try {
            byte[] stored = sealer.seal(Json.MAPPER.writeValueAsBytes(info), Formats.AD_LOCK);
            String name = Formats.LOCKS + Hashes.hex(Aead.randomBytes(16));
            storage.putIfAbsent(name, Payload.of(stored));
            return name;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private void checkConflicts(boolean exclusive, String own) {
        for (ObjectInfo o : storage.list(Formats.LOCKS)) {
            if (o.name().equals(own)) {
                continue;
            }
            LockInfo other;
            try {
                other = read(o.name());
            } catch (ObjectNotFoundException gone) {
                continue;
            }
            if (!exclusive && !"exclusive".equals(other.kind())) {
                continue;
            }
            Duration age = Duration.between(other.refreshed(), clock.instant());
            boolean stale = age.compareTo(STALE_AFTER) > 0;
            String what = stale ? "a stale " : "";
            throw new RepositoryLockedException("repository " + storage.location() + " is locked by " + what + other.kind()
                    + " lock of " + other.holder() + ", last refreshed " + age.toMinutes() + " min ago"
                    + (stale ? "; if that process is gone, remove " + o.name() : ""), other.holder(), age, stale);
        }
    }

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
