package io.backupkit.ops;

import io.backupkit.BackupException;
import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.ConfigurationException;
import io.backupkit.Repository;
import io.backupkit.Snapshot;
import io.backupkit.VerificationLevel;
import io.backupkit.VerificationReport;
import io.backupkit.Verifier;
import io.backupkit.ops.internal.Hosts;
import io.backupkit.ops.internal.OpsRecords;
import io.backupkit.ops.internal.Runs;
import io.backupkit.spi.JobLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs backup jobs and restore drills on their schedules inside the embedding process: no second
 * daemon. One thread per job, so a job's runs never overlap; ticks that pass while a run is going
 * (or while the process was down) follow the job's {@link MissedRunPolicy}. Before running a tick a
 * job takes its {@link JobLock} (by default {@link RepositoryJobLock}; a Kubernetes Lease in
 * backup-k8s) and then claims the tick in the repository with a write-once record, so that of
 * several replicas sharing one repository exactly one runs each tick and the others skip it, even
 * when they wake after the lock was released.
 *
 * <pre>{@code
 * BackupScheduler scheduler = BackupScheduler.builder()
 *         .repository(repo)
 *         .job(ScheduledJob.backup("nightly-shop", backupManager)
 *                 .schedule(Schedule.cron("30 2 * * *", ZoneId.of("Europe/Berlin")))
 *                 .verify(VerificationLevel.STANDARD).rpoTarget(Duration.ofHours(25)).build())
 *         .listener(WebhookNotifier.builder().url(hookUrl).secret(hmacKey).build())
 *         .listener(new MicrometerMetrics(meterRegistry))
 *         .build();
 * scheduler.start();
 * ...
 * Health health = scheduler.health();      // for the service's health endpoint
 * scheduler.stop(Duration.ofMinutes(5));   // lets a running backup finish, aborts it after 5 min
 * }</pre>
 */
public final class BackupScheduler implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BackupScheduler.class);
    /** How long an aborted run may take to clean up after its interrupt. */
    static final Duration ABORT_WAIT = Duration.ofSeconds(60);

    private final Repository repository;
    private final List<ScheduledJob> jobs;
    private final List<JobListener> listeners;
    private final JobLock jobLock;
    private final OpsClock clock;
    private final Random random;
    private final Duration healthCheckEvery;
    private final OpsRecords records;
    private final Map<String, Runner> runners = new LinkedHashMap<>();
    private final AtomicLong listenerFailures = new AtomicLong();
    private final ScheduledExecutorService watchdog;
    private volatile boolean stopping;
    private volatile Instant startedAt;
    private Thread monitor;

    private BackupScheduler(Builder b) {
        this.repository = Objects.requireNonNull(b.repository, "repository is required");
        if (b.jobs.isEmpty()) {
            throw new ConfigurationException("a scheduler needs at least one job");
        }
        this.jobs = List.copyOf(b.jobs);
        this.listeners = List.copyOf(b.listeners);
        this.jobLock = b.jobLock != null ? b.jobLock : new RepositoryJobLock(repository);
        this.clock = b.clock;
        this.random = b.random;
        this.healthCheckEvery = b.healthCheckEvery;
        this.records = new OpsRecords(repository);
        for (ScheduledJob j : jobs) {
            if (runners.put(j.name(), new Runner(j)) != null) {
                throw new ConfigurationException("two jobs are named " + j.name() + ": job names must be unique");
            }
        }
        this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "backupkit-scheduler-watchdog");
            t.setDaemon(true);
            return t;
        });
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Starts one thread per job and a health monitor; returns at once. */
    public synchronized BackupScheduler start() {
        if (startedAt != null) {
            throw new IllegalStateException("scheduler already started");
        }
        startedAt = clock.instant();
        for (Runner r : runners.values()) {
            r.loadHistory();
            r.thread = new Thread(r::loop, "backupkit-job-" + r.job.name());
            r.thread.setDaemon(true);
            r.thread.start();
        }
        monitor = new Thread(this::monitorLoop, "backupkit-scheduler-health");
        monitor.setDaemon(true);
        monitor.start();
        LOG.info("scheduler started: {}", jobs);
        return this;
    }

    /** Threads that wait on the clock when idle: one per job plus the health monitor (for {@link ManualClock} tests). */
    public int threadCount() {
        return jobs.size() + 1;
    }

    /** The outcome of {@link #stop}. */
    public record StopResult(List<String> finished, List<String> aborted, List<String> stillRunning) {
        /** True when no run had to be aborted and none is left running. */
        public boolean clean() {
            return aborted.isEmpty() && stillRunning.isEmpty();
        }
    }

    /**
     * Stops scheduling. A run in progress may finish within {@code grace}; after that it is
     * interrupted, which aborts a backup before its snapshot is written (no partial snapshot is
     * ever listed), and given up to a minute more to clean up.
     */
    public StopResult stop(Duration grace) {
        stopping = true;
        if (startedAt == null) {
            watchdog.shutdownNow();
            return new StopResult(List.of(), List.of(), List.of());
        }
        List<String> finished = new ArrayList<>();
        List<String> aborted = new ArrayList<>();
        List<String> still = new ArrayList<>();
        for (Runner r : runners.values()) {
            r.interruptIfIdle();
        }
        if (monitor != null) {
            monitor.interrupt();
        }
        long deadline = System.nanoTime() + grace.toNanos();
        for (Runner r : runners.values()) {
            join(r.thread, deadline);
            boolean wasRunning = r.running;
            if (r.thread.isAlive()) {
                r.abort("the scheduler is stopping");
                join(r.thread, System.nanoTime() + ABORT_WAIT.toNanos());
                (r.thread.isAlive() ? still : aborted).add(r.job.name());
            } else if (wasRunning || r.finishedWhileStopping) {
                finished.add(r.job.name());
            }
        }
        watchdog.shutdownNow();
        LOG.info("scheduler stopped: finished {}, aborted {}, still running {}", finished, aborted, still);
        return new StopResult(finished, aborted, still);
    }

    private static void join(Thread t, long deadlineNanos) {
        try {
            long left = deadlineNanos - System.nanoTime();
            if (left > 0) {
                t.join(Math.max(1, left / 1_000_000));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops with a grace of one minute. */
    @Override
    public void close() {
        stop(Duration.ofMinutes(1));
    }

    /** True once {@link #stop} was called. */
    public boolean isStopping() {
        return stopping;
    }

    /** Listener calls that threw (each was logged). */
    public long listenerFailures() {
        return listenerFailures.get();
    }

    public List<ScheduledJob> jobs() {
        return jobs;
    }

    /** Whether every job is in order, and why not. */
    public Health health() {
        Instant now = clock.instant();
        List<Health.JobHealth> js = new ArrayList<>();
        List<String> reasons = new ArrayList<>();
        for (Runner r : runners.values()) {
            Health.JobHealth h = r.health(now);
            js.add(h);
            h.reasons().forEach(reason -> reasons.add("job " + r.job.name() + ": " + reason));
        }
        return new Health(reasons.isEmpty(), now, reasons, js);
    }

    private void monitorLoop() {
        while (!stopping) {
            try {
                clock.sleepUntil(clock.instant().plus(healthCheckEvery));
            } catch (InterruptedException e) {
                return;
            }
            if (stopping) {
                return;
            }
            Instant now = clock.instant();
            for (Runner r : runners.values()) {
                r.checkStale(now);
            }
        }
    }

    void emit(JobEvent event) {
        for (JobListener l : listeners) {
            try {
                l.onEvent(event);
            } catch (RuntimeException e) {
                listenerFailures.incrementAndGet();
                LOG.warn("job listener {} failed on {} event of job {}: {}", l, event.type().label(), event.job(), e.toString());
            }
        }
    }

    /** One job's thread and state. */
    private final class Runner {
        final ScheduledJob job;
        Thread thread;
        volatile boolean running;
        volatile boolean finishedWhileStopping;
        volatile String abortReason;
        volatile RunRecord lastRun;
        volatile RunRecord lastSuccess;
        volatile Instant newestSnapshotTime;
        volatile String newestSnapshot;
        volatile boolean stale;

        Runner(ScheduledJob job) {
            this.job = job;
        }

        /** Last runs and the newest snapshot from the repository, so a restart keeps health and RPO. */
        void loadHistory() {
            try {
                List<RunRecord> runs = records.runs(job.name(), null);
                if (!runs.isEmpty()) {
                    lastRun = runs.get(runs.size() - 1);
                }
                for (int i = runs.size() - 1; i >= 0; i--) {
                    if (runs.get(i).succeeded()) {
                        lastSuccess = runs.get(i);
                        break;
                    }
                }
                if (job.kind() == ScheduledJob.Kind.BACKUP) {
                    newestSnapshotOf(job.name()).ifPresent(s -> {
                        newestSnapshotTime = s.time();
                        newestSnapshot = s.id();
                    });
                }
            } catch (RuntimeException e) {
                LOG.warn("job {}: reading its history from {} failed, starting without it: {}", job.name(), repository.location(),
                        e.getMessage());
            }
        }

        void loop() {
            Instant cursor;
            try {
                // ticks claimed before this process started (by it or a replica) are not missed
                cursor = records.lastClaimedTick(job.name(), clock.instant()).orElse(null);
            } catch (RuntimeException e) {
                LOG.warn("job {}: reading its claims failed: {}", job.name(), e.getMessage());
                cursor = null;
            }
            if (cursor == null) {
                cursor = clock.instant();
            }
            while (!stopping) {
                Instant now = clock.instant();
                Optional<Instant> due = job.schedule().latestAtOrBefore(now);
                Instant tick;
                if (due.isPresent() && due.get().isAfter(cursor)) {
                    int missed = countTicks(cursor, due.get());
                    if (job.missedRuns() == MissedRunPolicy.SKIP) {
                        skipped(due.get(), missed + " missed tick(s) skipped (missed-run policy SKIP), the newest at " + due.get());
                        cursor = due.get();
                        continue;
                    }
                    if (missed > 1) {
                        skipped(due.get(), (missed - 1) + " older missed tick(s) skipped; running once for " + due.get());
                    }
                    tick = due.get();
                } else {
                    Optional<Instant> next = job.schedule().nextAfter(now.isAfter(cursor) ? now : cursor);
                    if (next.isEmpty()) {
                        LOG.info("job {}: its schedule fires no more", job.name());
                        return;
                    }
                    tick = next.get();
                    Instant fireAt = tick.plus(jitter());
                    try {
                        clock.sleepUntil(fireAt);
                    } catch (InterruptedException e) {
                        if (stopping) {
                            return;
                        }
                        continue;
                    }
                }
                synchronized (this) {
                    if (stopping) {
                        return;
                    }
                    running = true;
                    abortReason = null;
                }
                try {
                    runTick(tick);
                } catch (RuntimeException e) {
                    LOG.error("job {}: tick {} ended with an unexpected error", job.name(), tick, e);
                } finally {
                    Thread.interrupted(); // an abort's interrupt must not leak into the next wait
                    synchronized (this) {
                        running = false;
                        finishedWhileStopping = stopping;
                    }
                }
                cursor = tick;
            }
        }

        private Duration jitter() {
            long ms = job.jitter().toMillis();
            if (ms <= 0) {
                return Duration.ZERO;
            }
            synchronized (random) {
                return Duration.ofMillis((long) (random.nextDouble() * ms));
            }
        }

        private int countTicks(Instant after, Instant upTo) {
            int n = 0;
            Instant t = after;
            while (n < 10_000) {
                Optional<Instant> next = job.schedule().nextAfter(t);
                if (next.isEmpty() || next.get().isAfter(upTo)) {
                    break;
                }
                n++;
                t = next.get();
            }
            return Math.max(n, 1);
        }

        private void skipped(Instant tick, String why) {
            LOG.info("job {}: {}", job.name(), why);
            emit(new JobEvent(JobEvent.Type.SKIPPED, job.name(), job.kind(), tick, clock.instant(), 0, null, why, null));
        }

        synchronized void interruptIfIdle() {
            if (!running && thread != null) {
                thread.interrupt();
            }
        }

        synchronized void abort(String why) {
            if (running && thread != null) {
                abortReason = why;
                thread.interrupt();
            } else if (thread != null) {
                thread.interrupt();
            }
        }

        private void runTick(Instant tick) {
            Optional<JobLock.Lease> acquired;
            try {
                acquired = jobLock.tryAcquire(job.name(), job.lockTtl());
            } catch (RuntimeException e) {
                finish(tick, clock.instant(), 0, null, "could not take the job lock: " + e.getMessage(), null, null);
                return;
            }
            if (acquired.isEmpty()) {
                skipped(tick, "tick " + tick + " not run here: the job is running elsewhere (job lock held)");
                return;
            }
            try (JobLock.Lease lease = acquired.get()) {
                boolean claimed;
                try {
                    claimed = records.claim(job.name(), tick, clock.instant());
                } catch (RuntimeException e) {
                    finish(tick, clock.instant(), 0, null, "could not claim tick " + tick + " in the repository: " + e.getMessage(), null, null);
                    return;
                }
                if (!claimed) {
                    String by = "another replica";
                    try {
                        by = records.claimOf(job.name(), tick).map(c -> c.host() + " (pid " + c.pid() + ")").orElse(by);
                    } catch (io.backupkit.IntegrityException e) {
                        // no replica wrote this (it has no key): skipping quietly would let whoever can write the
                        // storage stop every backup by planting objects; a failed run is seen and alerted on
                        finish(tick, clock.instant(), 0, null, "tick " + tick + " was not run: its claim in the repository "
                                + e.getMessage() + "; someone who can write the storage but has no key may have planted it", null, null);
                        return;
                    } catch (RuntimeException ignored) {
                        // who it was is only for the message
                    }
                    skipped(tick, "tick " + tick + " was already run by " + by);
                    return;
                }
                Thread me = Thread.currentThread();
                ScheduledFuture<?> guard = watchdog.scheduleWithFixedDelay(() -> {
                    if (!lease.isHeld()) {
                        synchronized (this) {
                            if (running && abortReason == null) {
                                abortReason = "the job lock was lost";
                                LOG.warn("job {}: lost its job lock; aborting the run before its next write", job.name());
                                me.interrupt();
                            }
                        }
                    }
                }, 1, 1, TimeUnit.SECONDS);
                try {
                    if (job.kind() == ScheduledJob.Kind.BACKUP) {
                        runBackup(tick);
                    } else {
                        runDrill(tick);
                    }
                } finally {
                    guard.cancel(false);
                    Thread.interrupted();
                }
            }
        }

        private void runBackup(Instant tick) {
            Instant started = clock.instant();
            BackupManager manager = job.backupManager().orElseThrow().toBuilder()
                    .tag("job", job.name()).tag("tick", tick.toString()).build();
            BackupResult result = null;
            String error = null;
            int attempt = 0;
            while (true) {
                attempt++;
                emit(new JobEvent(JobEvent.Type.STARTED, job.name(), job.kind(), tick, clock.instant(), attempt, null, null, null));
                try {
                    result = manager.backup();
                    error = null;
                    break;
                } catch (RuntimeException e) {
                    error = abortReason != null ? "aborted: " + abortReason + " (" + message(e) + ")" : message(e);
                    LOG.warn("job {}: attempt {} of tick {} failed: {}", job.name(), attempt, tick, error);
                }
                if (abortReason != null || stopping || attempt > job.retry().retries()) {
                    break;
                }
                if (!backoff(attempt)) {
                    error = error + "; retries stopped: " + (abortReason != null ? abortReason : "the scheduler is stopping");
                    break;
                }
            }
            Thread.interrupted();
            if (result == null) {
                finish(tick, started, attempt, null, error, null, null);
                return;
            }
            RunRecord.Verification verification = null;
            if (job.verifyLevel().isPresent()) {
                try {
                    verification = verify(result.snapshotId(), job.verifyLevel().get());
                } catch (RuntimeException e) {
                    error = "verifying snapshot " + result.snapshot().shortId() + " failed: " + message(e);
                }
                if (verification != null && !verification.passed()) {
                    error = "snapshot " + result.snapshot().shortId() + " failed " + verification.level() + " verification: "
                            + verification.checksFailed() + " check(s) failed: " + String.join("; ", verification.failures());
                }
            }
            if (error == null && verification != null && job.afterVerify().isPresent()) {
                try {
                    job.afterVerify().get().accept(repository);
                } catch (RuntimeException e) {
                    error = "snapshot " + result.snapshot().shortId() + " is saved and verified, but the after-verify step failed: "
                            + message(e);
                }
            }
            // the run's start on the scheduler's clock: the snapshot's own time is the same instant in production,
            // and with a ManualClock in tests the RPO stays on the clock that health compares it with
            newestSnapshotTime = started;
            newestSnapshot = result.snapshotId();
            finish(tick, started, attempt, result, error, verification, null);
        }

        private RunRecord.Verification verify(String snapshotId, VerificationLevel level) {
            Verifier.Builder v = Verifier.builder().repository(repository).snapshot(snapshotId).level(level);
            job.scratchTarget().ifPresent(v::scratchTarget);
            return Runs.verification(v.build().verify());
        }

        private void runDrill(Instant tick) {
            Instant started = clock.instant();
            String error = null;
            RunRecord.Verification verification = null;
            String snapshot = null;
            long rtoMillis = 0;
            int attempt = 0;
            while (true) {
                attempt++;
                emit(new JobEvent(JobEvent.Type.STARTED, job.name(), job.kind(), tick, clock.instant(), attempt, null, null, null));
                try {
                    Snapshot s = (job.drillOf().isPresent() ? newestSnapshotOf(job.drillOf().get()) : repository.snapshots().latest())
                            .orElseThrow(() -> new BackupException("no snapshot to restore" + job.drillOf().map(j -> " of job " + j).orElse("")
                                    + " in " + repository.location()));
                    snapshot = s.id();
                    long t0 = System.nanoTime();
                    VerificationReport report = Verifier.builder().repository(repository).snapshot(s.id())
                            .level(VerificationLevel.COMPREHENSIVE).scratchTarget(job.scratchTarget().orElseThrow()).build().verify();
                    rtoMillis = Duration.ofNanos(System.nanoTime() - t0).toMillis();
                    verification = Runs.verification(report);
                    error = report.passed() ? null : "restore drill of snapshot " + s.shortId() + " failed: "
                            + String.join("; ", verification.failures());
                    break;
                } catch (RuntimeException e) {
                    error = abortReason != null ? "aborted: " + abortReason + " (" + message(e) + ")" : message(e);
                    LOG.warn("job {}: drill attempt {} failed: {}", job.name(), attempt, error);
                }
                if (abortReason != null || stopping || attempt > job.retry().retries() || !backoff(attempt)) {
                    break;
                }
            }
            Thread.interrupted();
            RunRecord run = Runs.record(job, tick, started, clock.instant(), attempt, snapshot, error, 0, 0, rtoMillis, verification);
            finishRecord(run);
        }

        /** Waits before the next attempt; false when stopped or aborted meanwhile. */
        private boolean backoff(int attempt) {
            Duration d = job.retry().delayAfter(attempt);
            try {
                clock.sleepUntil(clock.instant().plus(d));
                return !stopping && abortReason == null;
            } catch (InterruptedException e) {
                return false;
            }
        }

        private void finish(Instant tick, Instant started, int attempts, BackupResult result, String error,
                            RunRecord.Verification verification, Long rtoMillis) {
            RunRecord run = Runs.record(job, tick, started, clock.instant(), attempts, result == null ? null : result.snapshotId(), error,
                    result == null ? 0 : result.bytesRead(), result == null ? 0 : result.bytesStored(),
                    result == null ? 0 : result.duration().toMillis(), verification);
            finishRecord(run);
        }

        private void finishRecord(RunRecord run) {
            Thread.interrupted();
            try {
                records.saveRun(run);
                records.trim(job.name());
            } catch (RuntimeException e) {
                LOG.warn("job {}: saving the run record in {} failed: {}", job.name(), repository.location(), e.getMessage());
            }
            lastRun = run;
            if (run.succeeded()) {
                lastSuccess = run;
                stale = false;
            }
            if (run.verification() != null && job.kind() == ScheduledJob.Kind.BACKUP) {
                emit(new JobEvent(JobEvent.Type.VERIFIED, job.name(), job.kind(), run.tick(), run.finished(), run.attempts(),
                        run.snapshot(), run.verification().passed() ? null : run.error(), run));
            }
            JobEvent.Type type = run.succeeded() ? JobEvent.Type.SUCCEEDED : JobEvent.Type.FAILED;
            emit(new JobEvent(type, job.name(), job.kind(), run.tick(), run.finished(), run.attempts(), run.snapshot(), run.error(), run));
            LOG.info("job {}: tick {} {}{}", job.name(), run.tick(), run.status(), run.error() == null ? "" : ": " + run.error());
        }

        void checkStale(Instant now) {
            Health.JobHealth h = health(now);
            boolean isStale = h.reasons().stream().anyMatch(r -> r.contains("stale"));
            if (isStale && !stale) {
                stale = true;
                String why = h.reasons().stream().filter(r -> r.contains("stale")).findFirst().orElse("stale");
                emit(new JobEvent(JobEvent.Type.STALE, job.name(), job.kind(), null, now, 0, h.lastSnapshot(), why, lastRun));
            }
        }

        Health.JobHealth health(Instant now) {
            List<String> reasons = new ArrayList<>();
            RunRecord last = lastRun;
            RunRecord success = lastSuccess;
            Duration staleAfter = job.staleAfter(now);
            if (last != null && !last.succeeded()) {
                reasons.add("the last run (" + (last.tick() == null ? "one-shot" : "tick " + last.tick()) + ") failed: " + last.error());
            }
            Instant since = success != null ? success.finished() : startedAt;
            if (since != null && Duration.between(since, now).compareTo(staleAfter) > 0) {
                reasons.add(success == null
                        ? "stale: no successful run in the " + Runs.human(Duration.between(since, now)) + " since the scheduler started "
                          + "(allowed: " + Runs.human(staleAfter) + ")"
                        : "stale: the last successful run ended " + Runs.human(Duration.between(since, now)) + " ago (allowed: "
                          + Runs.human(staleAfter) + ")");
            }
            Long rpo = null;
            Instant newest = newestSnapshotTime;
            if (job.kind() == ScheduledJob.Kind.BACKUP && newest != null) {
                rpo = Math.max(0, Duration.between(newest, now).getSeconds());
                if (job.rpoTarget().isPresent() && rpo > job.rpoTarget().get().getSeconds()) {
                    reasons.add("RPO " + Runs.human(Duration.ofSeconds(rpo)) + " exceeds the target of " + Runs.human(job.rpoTarget().get()));
                }
            }
            Double rto = null;
            if (job.kind() == ScheduledJob.Kind.DRILL && success != null) {
                rto = success.durationMillis() / 1000.0;
                if (job.rtoTarget().isPresent() && success.durationMillis() > job.rtoTarget().get().toMillis()) {
                    reasons.add("the last restore drill took " + Runs.human(Duration.ofMillis(success.durationMillis()))
                            + ", more than the RTO target of " + Runs.human(job.rtoTarget().get()));
                }
            }
            return new Health.JobHealth(job.name(), job.kind().name().toLowerCase(java.util.Locale.ROOT), reasons.isEmpty(), reasons,
                    running, last == null ? null : last.status(), last == null ? null : last.finished(), last == null ? null : last.error(),
                    success == null ? null : success.finished(),
                    job.kind() == ScheduledJob.Kind.BACKUP ? newestSnapshot : success == null ? null : success.snapshot(), rpo,
                    job.rpoTarget().map(Duration::getSeconds).orElse(null), rto, job.rtoTarget().map(Duration::getSeconds).orElse(null),
                    job.schedule().nextAfter(now).orElse(null));
        }
    }

    private Optional<Snapshot> newestSnapshotOf(String jobName) {
        return repository.snapshots().list().stream().filter(s -> jobName.equals(s.tags().get("job")))
                .max(Comparator.comparing(Snapshot::time));
    }

    private static String message(Throwable e) {
        String m = e.getMessage();
        return e instanceof BackupException && m != null ? m : e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    /** Configures a {@link BackupScheduler}; not thread-safe. */
    public static final class Builder {
        private Repository repository;
        private final List<ScheduledJob> jobs = new ArrayList<>();
        private final List<JobListener> listeners = new ArrayList<>();
        private JobLock jobLock;
        private OpsClock clock = OpsClock.system();
        private Random random = new Random();
        private Duration healthCheckEvery = Duration.ofMinutes(1);

        private Builder() {
        }

        public Builder repository(Repository repository) {
            this.repository = repository;
            return this;
        }

        public Builder job(ScheduledJob job) {
            jobs.add(Objects.requireNonNull(job));
            return this;
        }

        /** Receives every event (notifiers, metrics); called on the job's thread. */
        public Builder listener(JobListener listener) {
            listeners.add(Objects.requireNonNull(listener));
            return this;
        }

        /** Mutual exclusion across replicas (default: {@link RepositoryJobLock} on the same repository). */
        public Builder jobLock(JobLock lock) {
            this.jobLock = lock;
            return this;
        }

        /** The clock (default: the system clock); a {@link ManualClock} in tests. */
        public Builder clock(OpsClock clock) {
            this.clock = Objects.requireNonNull(clock);
            return this;
        }

        /** The source of jitter (seed it in tests). */
        public Builder random(Random random) {
            this.random = Objects.requireNonNull(random);
            return this;
        }

        /** How often staleness is checked (and STALE events sent); default one minute. */
        public Builder healthCheckEvery(Duration every) {
            if (every == null || every.isNegative() || every.isZero()) {
                throw new ConfigurationException("healthCheckEvery must be positive, was " + every);
            }
            this.healthCheckEvery = every;
            return this;
        }

        public BackupScheduler build() {
            return new BackupScheduler(this);
        }
    }
}
