package io.backupkit.ops;

import io.backupkit.Repository;
import io.backupkit.ops.internal.Hosts;
import io.backupkit.ops.internal.OpsJson;
import io.backupkit.ops.internal.OpsRecords;
import io.backupkit.spi.JobLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A {@link JobLock} kept in the repository itself, so replicas that share nothing but the
 * repository never run one job at once. It needs only the storage's atomic {@code putIfAbsent}
 * (local disk, S3 conditional writes).
 *
 * <p>A job's lock is a sequence of sealed lease records {@code ops/<job>/lease/<seq>}. The newest
 * one says who holds the lock until when. To take a free or expired lock, a process writes the next
 * sequence number: of several contenders exactly one write succeeds. The holder renews by writing
 * the next number every {@code ttl / 3}; if that write finds the number taken, or renewals fail
 * until the lease expires, the lease is lost ({@link Lease#isHeld()} turns false). Releasing writes
 * a "released" record. Clocks of the replicas must agree to well within the ttl.
 *
 * <pre>{@code
 * JobLock lock = new RepositoryJobLock(repo);
 * try (JobLock.Lease lease = lock.tryAcquire("nightly-shop", Duration.ofMinutes(2)).orElse(null)) {
 *     if (lease == null) return;          // another replica runs it
 *     ...
 * }
 * }</pre>
 */
public final class RepositoryJobLock implements JobLock {
    private static final Logger LOG = LoggerFactory.getLogger(RepositoryJobLock.class);
    private static final ScheduledExecutorService RENEWER = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "backupkit-job-lock-renewal");
        t.setDaemon(true);
        return t;
    });

    private final Repository repository;
    private final Clock clock;

    public RepositoryJobLock(Repository repository) {
        this(repository, Clock.systemUTC());
    }

    /** With a clock of its own (tests make leases look expired). */
    public RepositoryJobLock(Repository repository, Clock clock) {
        this.repository = repository;
        this.clock = clock;
    }

    /** The stored form of one lease record. */
    record LeaseRecord(String holder, String host, long pid, String state, Instant expires) {
        boolean heldAt(Instant now) {
            return "held".equals(state) && expires.isAfter(now);
        }
    }

    private static String prefix(String job) {
        return OpsRecords.ROOT + job + "/lease/";
    }

    private static String name(String job, long seq) {
        return prefix(job) + String.format("%020d", seq);
    }

    private static long seqOf(String name) {
        return Long.parseLong(name.substring(name.lastIndexOf('/') + 1));
    }

    @Override
    public Optional<Lease> tryAcquire(String jobName, Duration ttl) {
        if (ttl.compareTo(Duration.ofSeconds(3)) < 0) {
            throw new IllegalArgumentException("lock ttl must be at least 3 s, was " + ttl);
        }
        long seq = 1;
        for (int attempt = 1; ; attempt++) {
            Optional<String> newest = newest(jobName);
            if (newest.isEmpty()) {
                break;
            }
            Optional<LeaseRecord> current = read(newest.get());
            if (current.isEmpty()) {
                // the holder moved on (renewed or released) and removed this record between list and read: look again
                if (attempt < 5) {
                    continue;
                }
                return Optional.empty();
            }
            if (current.get().heldAt(clock.instant())) {
                LOG.debug("job {} is locked by {} (pid {}) until {}", jobName, current.get().host(), current.get().pid(),
                        current.get().expires());
                return Optional.empty();
            }
            seq = seqOf(newest.get()) + 1;
            break;
        }
        String holder = UUID.randomUUID().toString();
        if (!write(jobName, seq, holder, "held", ttl)) {
            return Optional.empty(); // another contender wrote this number first
        }
        deleteOlderThan(jobName, seq - 1);
        return Optional.of(new RepoLease(jobName, holder, seq, ttl));
    }

    /** Who holds a job's lock now, if anyone: "host (pid N) until T". */
    public Optional<String> holder(String jobName) {
        return newest(jobName).flatMap(this::read).filter(r -> r.heldAt(clock.instant()))
                .map(r -> r.host() + " (pid " + r.pid() + ") until " + r.expires());
    }

    private Optional<String> newest(String job) {
        return repository.records().list(prefix(job)).stream().filter(n -> n.substring(n.lastIndexOf('/') + 1).matches("\\d{20}"))
                .max(Comparator.naturalOrder());
    }

    private Optional<LeaseRecord> read(String name) {
        return repository.records().read(name).map(b -> OpsJson.read(name, b, LeaseRecord.class));
    }

    private boolean write(String job, long seq, String holder, String state, Duration ttl) {
        LeaseRecord r = new LeaseRecord(holder, Hosts.name(), ProcessHandle.current().pid(), state, clock.instant().plus(ttl));
        return repository.records().create(name(job, seq), OpsJson.write(r));
    }

    private void deleteOlderThan(String job, long keepFrom) {
        try {
            List<String> old = new ArrayList<>();
            for (String n : repository.records().list(prefix(job))) {
                if (n.substring(n.lastIndexOf('/') + 1).matches("\\d{20}") && seqOf(n) < keepFrom) {
                    old.add(n);
                }
            }
            old.forEach(repository.records()::delete);
        } catch (RuntimeException e) {
            LOG.debug("removing old lease records of {} failed: {}", job, e.getMessage());
        }
    }

    private final class RepoLease implements Lease {
        private final String job;
        private final String holder;
        private final Duration ttl;
        private long seq;
        private Instant expires;
        private boolean lost;
        private boolean closed;
        private final ScheduledFuture<?> renewal;

        RepoLease(String job, String holder, long seq, Duration ttl) {
            this.job = job;
            this.holder = holder;
            this.seq = seq;
            this.ttl = ttl;
            this.expires = clock.instant().plus(ttl);
            long every = Math.max(1000, ttl.toMillis() / 3);
            this.renewal = RENEWER.scheduleWithFixedDelay(this::renew, every, every, TimeUnit.MILLISECONDS);
        }

        private synchronized void renew() {
            if (lost || closed) {
                return;
            }
            try {
                if (write(job, seq + 1, holder, "held", ttl)) {
                    seq++;
                    expires = clock.instant().plus(ttl);
                    deleteOlderThan(job, seq - 1);
                } else {
                    lost = true;
                    LOG.warn("lost the lock of job {}: another process took it over (lease {})", job, seq + 1);
                }
            } catch (RuntimeException e) {
                LOG.warn("renewing the lock of job {} failed (held until {}): {}", job, expires, e.getMessage());
            }
        }

        @Override
        public synchronized boolean isHeld() {
            return !lost && !closed && clock.instant().isBefore(expires);
        }

        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            renewal.cancel(false);
            if (lost) {
                return;
            }
            try {
                if (write(job, seq + 1, holder, "released", Duration.ZERO)) {
                    deleteOlderThan(job, seq);
                }
            } catch (RuntimeException e) {
                LOG.warn("releasing the lock of job {} failed (it expires at {}): {}", job, expires, e.getMessage());
            }
        }
    }
}
