package io.backupkit.postgres;

import io.backupkit.BackupException;
import io.backupkit.ConfigurationException;
import io.backupkit.IntegrityException;
import io.backupkit.LogConflictException;
import io.backupkit.LogPutResult;
import io.backupkit.Repository;
import io.backupkit.postgres.internal.wal.SpoolLock;
import io.backupkit.postgres.internal.wal.WalNames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Asynchronous WAL archiving, as pgBackRest's archive-async does: a long-lived pusher scans the
 * server's {@code pg_wal/archive_status/*.ready} files, pushes those segments in parallel, ahead of
 * PostgreSQL's {@code archive_command} calls, and records each durable one in a spool directory
 * ({@code <name>.ok}, holding the file's SHA-256). The {@code archive_command}
 * ({@code backupkit wal-push --async}) then only checks the spool, so PostgreSQL's archiver is not
 * slowed by a JVM start and a repository open per segment. With {@link Builder#markDone} (default
 * on) the pusher also renames {@code .ready} to {@code .done} once a segment is durable, so
 * PostgreSQL does not call {@code archive_command} for it at all — but never a file PostgreSQL may
 * be archiving: its own rename would then fail with a warning in the server log. A segment is never
 * marked before it is durable; a permanent failure (conflict, foreign cluster) is written as
 * {@code <name>.error} for the archive command to report. One pusher per spool: it holds
 * {@code pusher.lock}.
 *
 * <p>Hand-off with PostgreSQL's archiver: it archives ready files one at a time in a fixed order
 * (history files, then by name) and moves past a file only when {@code archive_command} succeeded
 * for it. The archive command ({@link #consume}) records each file it reports archived in
 * {@code <spool>/confirmed}, holding the spool's {@code handoff.lock}; the pusher renames only while
 * holding that lock, and leaves alone every ready file up to the confirmed one (PostgreSQL may not
 * have renamed it yet), the first ready file after it and the first ready segment after it (one of
 * them is the file PostgreSQL is on, or will pick next). PostgreSQL cannot get past those without an
 * archive command taking the lock, so checking and renaming cannot race with it. (Checking "is an
 * earlier file still ready?" without the lock could: PostgreSQL renamed that file and picked the
 * next one between the check and the rename.) This relies on the archive command being
 * {@code wal-push --async} on the same spool.
 *
 * <pre>{@code
 * // a sidecar that sees the data directory
 * try (WalArchiver archiver = WalArchiver.builder().repository(repo)
 *         .dataDirectory(Path.of("/var/lib/postgresql/15/main"))
 *         .spool(Path.of("/var/spool/backupkit"))
 *         .build().start()) {
 *     ...
 * }
 * }</pre>
 */
public final class WalArchiver implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WalArchiver.class);
    /** Name of the lock file a running pusher holds in the spool. */
    public static final String LOCK_FILE = "pusher.lock";
    /** Spool file naming the last WAL file the archive command reported archived to PostgreSQL. */
    static final String CONFIRMED_FILE = "confirmed";
    /** Lock held while the archive command records a confirmation, and while the pusher renames. */
    static final String HANDOFF_LOCK = "handoff.lock";
    /** PostgreSQL's archiving order: history files first, then by name. */
    private static final Comparator<String> ARCHIVE_ORDER = Comparator.comparing((String n) -> !n.endsWith(".history"))
            .thenComparing(n -> n);
    /** File locks do not exclude threads of one JVM: this does (tests run the archive command in-process). */
    private static final java.util.Map<Path, java.util.concurrent.locks.ReentrantLock> HANDOFF =
            new ConcurrentHashMap<>();

    private final WalArchive wal;
    private final Path dataDirectory;
    private final Path statusDirectory;
    private final Path spool;
    private final int parallelism;
    private volatile boolean markDone;
    private final Duration pollInterval;
    private final Duration idleExit;
    private final ExecutorService pool;
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
    private final java.util.Map<String, Integer> attempts = new ConcurrentHashMap<>();
    private final java.util.Map<String, Long> retryAt = new ConcurrentHashMap<>();
    private final AtomicLong pushed = new AtomicLong();
    private final AtomicLong bytesPushed = new AtomicLong();
    private final AtomicInteger failures = new AtomicInteger();
    private volatile String lastError;
    private volatile boolean stopping;
    /** For tests: called holding the hand-off lock, just before a .ready file is renamed. */
    volatile java.util.function.Consumer<String> beforeRename;
    private SpoolLock lock;
    private Thread thread;

    private WalArchiver(Builder b) {
        if (b.dataDirectory == null) {
            throw new ConfigurationException("a WalArchiver needs the server's data directory (it reads pg_wal/archive_status)");
        }
        if (b.spool == null) {
            throw new ConfigurationException("a WalArchiver needs a spool directory");
        }
        this.dataDirectory = b.dataDirectory.toAbsolutePath();
        this.wal = b.archive != null ? b.archive : WalArchive.builder().repository(b.repository).dataDirectory(dataDirectory)
                .allowNewCluster(b.allowNewCluster).build();
        this.statusDirectory = dataDirectory.resolve("pg_wal").resolve("archive_status");
        this.spool = b.spool.toAbsolutePath();
        this.parallelism = b.parallelism;
        this.markDone = b.markDone;
        this.pollInterval = b.pollInterval;
        this.idleExit = b.idleExit;
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(parallelism, r -> {
            Thread t = new Thread(r, "backupkit-wal-push-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The default spool of a data directory: {@code pg_wal/.backupkit-spool}. */
    public static Path defaultSpool(Path dataDirectory) {
        return dataDirectory.resolve("pg_wal").resolve(".backupkit-spool");
    }

    /**
     * Takes the spool's lock and starts scanning on a background thread.
     *
     * @throws ConfigurationException when another pusher holds the spool
     */
    public synchronized WalArchiver start() {
        if (!tryLock()) {
            throw new ConfigurationException("another WAL pusher is running on spool " + spool + " (it holds " + LOCK_FILE + ")");
        }
        thread = new Thread(this::loop, "backupkit-wal-pusher");
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    /**
     * Runs in the calling thread until stopped, or until nothing was ready for the idle time given to
     * the builder (then returns). Takes the spool's lock; returns at once when another pusher has it.
     *
     * @return whether this call ran (false: another pusher holds the spool)
     */
    public boolean runUntilIdle() {
        if (!tryLock()) {
            return false;
        }
        try {
            loop();
        } finally {
            releaseLock();
        }
        return true;
    }

    private synchronized boolean tryLock() {
        lock = SpoolLock.tryAcquire(spool.resolve(LOCK_FILE)).orElse(null);
        return lock != null;
    }

    private synchronized void releaseLock() {
        if (lock != null) {
            lock.close();
        }
        lock = null;
    }

    /** Whether some process holds the spool's pusher lock right now. */
    public static boolean isRunning(Path spool) {
        return SpoolLock.isHeld(spool.resolve(LOCK_FILE));
    }

    private void loop() {
        long idleSince = System.nanoTime();
        long pushedBefore = pushed.get();
        int failuresBefore = failures.get();
        long lastCleanup = System.nanoTime();
        while (!stopping) {
            int started = 0;
            try {
                started = scanOnce();
            } catch (RuntimeException e) {
                lastError = e.getMessage();
                LOG.warn("scanning {} failed: {}", statusDirectory, e.getMessage());
            }
            if (System.nanoTime() - lastCleanup > TimeUnit.MINUTES.toNanos(1)) {
                removeOldMarkers();
                lastCleanup = System.nanoTime();
            }
            long done = pushed.get();
            if (done != pushedBefore || (!inFlight.isEmpty() && failures.get() == failuresBefore)) {
                // only progress counts: a pusher that only fails exits, and the next archive_command starts a fresh one
                idleSince = System.nanoTime();
            } else if (idleExit != null && System.nanoTime() - idleSince > idleExit.toNanos()) {
                LOG.info("nothing archived for {}; the pusher exits", idleExit);
                break;
            }
            pushedBefore = done;
            failuresBefore = failures.get();
            if (idleExit != null && !Files.exists(dataDirectory.resolve("postmaster.pid"))) {
                LOG.info("the server is not running (no postmaster.pid); the pusher exits");
                break;
            }
            try {
                Thread.sleep(pollInterval.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        pool.shutdown();
        try {
            pool.awaitTermination(5, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Pushes every segment that is ready now and waits for them; for tests and one-shot use.
     *
     * @return how many files were pushed
     */
    public int pushReadyNow() {
        long before = pushed.get();
        scanOnce();
        while (!inFlight.isEmpty()) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return (int) (pushed.get() - before);
    }

    /** Starts pushes for ready files not yet in flight; returns how many it started. */
    private int scanOnce() {
        List<String> ready = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(statusDirectory, "*.ready")) {
            for (Path p : ds) {
                String f = p.getFileName().toString();
                ready.add(f.substring(0, f.length() - ".ready".length()));
            }
        } catch (NoSuchFileException e) {
            throw new ConfigurationException(dataDirectory + " is not a PostgreSQL data directory (no pg_wal/archive_status)");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + statusDirectory, e);
        }
        // history files first (a restore needs them to choose a timeline), then oldest first
        ready.sort(ARCHIVE_ORDER);
        int started = 0;
        List<String> durable = new ArrayList<>();
        for (String name : ready) {
            if (WalNames.kind(name) == null || inFlight.contains(name) || Files.exists(spool.resolve(name + ".ok"))
                    || recentlyFailed(name)) {
                if (markDone && Files.exists(spool.resolve(name + ".ok"))) {
                    durable.add(name);
                }
                continue;
            }
            if (inFlight.size() >= parallelism * 2) {
                break;
            }
            inFlight.add(name);
            started++;
            pool.execute(() -> {
                try {
                    pushOne(name);
                } finally {
                    inFlight.remove(name);
                }
            });
        }
        markDone(durable);
        return started;
    }

    /** A failed push waits (backing off) before the next attempt; a permanent failure 30 s. */
    private boolean recentlyFailed(String name) {
        Long at = retryAt.get(name);
        if (at != null) {
            return System.currentTimeMillis() < at;
        }
        try {
            return System.currentTimeMillis() - Files.getLastModifiedTime(spool.resolve(name + ".error")).toMillis() < 30_000;
        } catch (IOException e) {
            return false;
        }
    }

    private void pushOne(String name) {
        Path file = dataDirectory.resolve("pg_wal").resolve(name);
        try {
            String sha = sha256(file);
            WalArchive.PushResult r = wal.push(file);
            writeMarker(name + ".ok", sha + " " + r.size() + "\n");
            deleteQuietly(spool.resolve(name + ".error"));
            attempts.remove(name);
            retryAt.remove(name);
            pushed.incrementAndGet();
            bytesPushed.addAndGet(r.size());
            LOG.debug("pushed {} ({})", name, r.status() == LogPutResult.Status.STORED ? "stored" : "already archived");
            markDone(List.of(name));
        } catch (ConfigurationException | LogConflictException | IntegrityException e) {
            // will not heal by retrying: tell the archive command, which reports it to PostgreSQL's log
            failures.incrementAndGet();
            lastError = e.getMessage();
            writeMarker(name + ".error", e.getMessage() + "\n");
            LOG.error("cannot archive {}: {}", name, e.getMessage());
        } catch (BackupException | UncheckedIOException e) {
            // repository unreachable, permission denied, …: tell the archive command (PostgreSQL logs
            // it and retries) and try again later, backing off so a long outage does not flood the log
            failures.incrementAndGet();
            lastError = e.getMessage();
            writeMarker(name + ".error", e.getMessage() + "\n");
            int attempt = attempts.merge(name, 1, Integer::sum);
            long delay = Math.min(30_000L, 500L << Math.min(attempt - 1, 6));
            retryAt.put(name, System.currentTimeMillis() + delay);
            LOG.warn("pushing {} failed ({}); retrying in {} ms", name, e.getMessage(), delay);
        }
    }

    /** Renames the .ready files of durable {@code names} to .done, except those PostgreSQL may be archiving. */
    private void markDone(List<String> names) {
        if (!markDone || names.isEmpty()) {
            return;
        }
        try {
            withHandoffLock(spool, false, () -> {
                renameDone(names);
                return null;
            });
        } catch (IOException | UncheckedIOException e) {
            LOG.debug("cannot mark done in {}: {}", statusDirectory, e.toString());
        }
    }

    /** Holding the hand-off lock: PostgreSQL's archiver cannot move on meanwhile (see the class comment). */
    private void renameDone(List<String> names) throws IOException {
        String confirmed = readConfirmed(spool);
        List<String> ready = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(statusDirectory, "*.ready")) {
            for (Path p : ds) {
                String f = p.getFileName().toString();
                ready.add(f.substring(0, f.length() - ".ready".length()));
            }
        }
        ready.sort(ARCHIVE_ORDER);
        Set<String> leave = new java.util.HashSet<>();
        String firstAfter = null;
        String firstSegmentAfter = null;
        for (String r : ready) {
            if (confirmed != null && ARCHIVE_ORDER.compare(r, confirmed) <= 0) {
                // confirmed to PostgreSQL (it renames it next), or made ready out of order: PostgreSQL's own
                leave.add(r);
            } else if (firstAfter == null) {
                firstAfter = r;
            }
            if (firstAfter != null && firstSegmentAfter == null && WalNames.kind(r) == WalNames.Kind.SEGMENT) {
                // a .backup or .partial file made ready after PostgreSQL listed the directory sorts before the
                // segment it is on: that segment is the first one after the confirmed file
                firstSegmentAfter = r;
            }
        }
        leave.add(firstAfter);
        leave.add(firstSegmentAfter);
        Set<String> isReady = new java.util.HashSet<>(ready);
        for (String name : names) {
            if (leave.contains(name) || !isReady.contains(name)) {
                continue;
            }
            Path file = statusDirectory.resolve(name + ".ready");
            java.util.function.Consumer<String> hook = beforeRename;
            if (hook != null) {
                hook.accept(name);
            }
            try {
                Files.move(file, statusDirectory.resolve(name + ".done"), StandardCopyOption.ATOMIC_MOVE);
                // the .ok marker stays: an archive_command call for this file may be running right now
                // (it read the .ready before the rename); removeOldMarkers() deletes it later
            } catch (NoSuchFileException e) {
                // PostgreSQL's own archive_command call got there first
            } catch (AccessDeniedException e) {
                markDone = false;
                LOG.warn("cannot rename {} (permission denied): PostgreSQL will call archive_command for each segment;"
                        + " run the pusher as the server's OS user to spare those calls", file);
                return;
            } catch (IOException e) {
                LOG.debug("cannot rename {}: {}", file, e.toString());
            }
        }
    }

    private static String readConfirmed(Path spool) throws IOException {
        try {
            String s = Files.readString(spool.resolve(CONFIRMED_FILE), StandardCharsets.UTF_8).trim();
            return s.isEmpty() ? null : s;
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** I/O under the hand-off lock. */
    private interface LockedAction<T> {
        T run() throws IOException;
    }

    /**
     * Runs {@code action} holding the spool's hand-off lock, against other threads of this JVM and
     * other processes. {@code shared}: a shared file lock is enough (the archive command, which may only
     * read the lock file when the pusher runs as another user).
     */
    private static <T> T withHandoffLock(Path spool, boolean shared, LockedAction<T> action) throws IOException {
        java.util.concurrent.locks.ReentrantLock local = HANDOFF.computeIfAbsent(spool.toAbsolutePath().normalize(),
                k -> new java.util.concurrent.locks.ReentrantLock());
        local.lock();
        try {
            Path lockFile = spool.resolve(HANDOFF_LOCK);
            FileChannel ch;
            boolean readOnly = false;
            try {
                ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            } catch (AccessDeniedException e) {
                if (!shared) {
                    throw e;
                }
                // the pusher (another OS user) made the lock file: a shared lock needs only read access
                ch = FileChannel.open(lockFile, StandardOpenOption.READ);
                readOnly = true;
            }
            try (FileChannel channel = ch; FileLock ignored = channel.lock(0, Long.MAX_VALUE, readOnly)) {
                return action.run();
            }
        } finally {
            local.unlock();
        }
    }

    /**
     * Records that the archive command is about to tell PostgreSQL that {@code name} is archived, so
     * that the pusher leaves the files PostgreSQL may take next alone. Best effort: without it the
     * pusher could rename a file PostgreSQL is archiving (a warning in the server log, nothing lost).
     */
    static void confirm(Path spool, String name) {
        try {
            withHandoffLock(spool, true, () -> {
                Path tmp = spool.resolve("." + CONFIRMED_FILE + ".tmp");
                Files.writeString(tmp, name + "\n", StandardCharsets.UTF_8);
                Files.move(tmp, spool.resolve(CONFIRMED_FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                return null;
            });
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot record {} as archived in spool {}: {}", name, spool, e.toString());
        }
    }

    /** Deletes .ok markers older than 10 minutes of files PostgreSQL no longer has ready (it will not ask for them). */
    private void removeOldMarkers() {
        long cutoff = System.currentTimeMillis() - TimeUnit.MINUTES.toMillis(10);
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(spool, "*.ok")) {
            for (Path p : ds) {
                String f = p.getFileName().toString();
                String name = f.substring(0, f.length() - 3);
                if (!Files.exists(statusDirectory.resolve(name + ".ready")) && Files.getLastModifiedTime(p).toMillis() < cutoff) {
                    deleteQuietly(p);
                }
            }
        } catch (IOException e) {
            LOG.debug("cannot clean spool {}: {}", spool, e.toString());
        }
    }

    private void writeMarker(String fileName, String content) {
        Path target = spool.resolve(fileName);
        Path tmp = spool.resolve("." + fileName + ".tmp");
        try {
            Files.createDirectories(spool);
            Files.writeString(tmp, content, StandardCharsets.UTF_8);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target, e);
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // harmless leftover
        }
    }

    static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchFileException e) {
            throw new ConfigurationException("WAL file " + file + " does not exist");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * What the spool says about one WAL file, for the archive command.
     *
     * @param state   pushed (durable, and the file still has the content that was pushed), failed, or unknown
     * @param message the failure's message, for {@link SpoolState#FAILED}
     */
    public record SpoolStatus(SpoolState state, String message) {
    }

    /** A spool entry's state. */
    public enum SpoolState { PUSHED, FAILED, UNKNOWN }

    /**
     * Checks the spool for {@code walFile}: {@link SpoolState#PUSHED} only when an {@code .ok} marker
     * exists whose SHA-256 matches the file as it is now. A failure marker is consumed when reported;
     * a marker for other content is deleted. A PUSHED answer is recorded as the file PostgreSQL is
     * told is archived (the archive command reports it right after), for the pusher's hand-off.
     */
    public static SpoolStatus consume(Path spool, Path walFile) {
        String name = walFile.getFileName().toString();
        Path ok = spool.resolve(name + ".ok");
        Path error = spool.resolve(name + ".error");
        try {
            if (Files.exists(ok)) {
                String[] f = Files.readString(ok, StandardCharsets.UTF_8).trim().split(" ");
                if (f.length >= 1 && f[0].equals(sha256(walFile))) {
                    // left in place: the pusher would push the file again while its .ready remains;
                    // the pusher deletes markers once PostgreSQL is done with the file
                    confirm(spool, name);
                    return new SpoolStatus(SpoolState.PUSHED, null);
                }
                // a marker for other content of that name: not trusted
                Files.deleteIfExists(ok);
                return new SpoolStatus(SpoolState.UNKNOWN, null);
            }
            if (Files.exists(error)) {
                String message = Files.readString(error, StandardCharsets.UTF_8).trim();
                Files.deleteIfExists(error);
                return new SpoolStatus(SpoolState.FAILED, message);
            }
        } catch (NoSuchFileException e) {
            return new SpoolStatus(SpoolState.UNKNOWN, null);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read spool " + spool, e);
        }
        return new SpoolStatus(SpoolState.UNKNOWN, null);
    }

    /**
     * Counters.
     *
     * @param pushed      files pushed (stored or found archived already)
     * @param bytesPushed their bytes
     * @param failures    failed attempts
     * @param inFlight    pushes running now
     * @param lastError   the last failure's message, or null
     * @param markDone    whether .ready files are renamed to .done
     */
    public record Status(long pushed, long bytesPushed, int failures, int inFlight, String lastError, boolean markDone) {
    }

    public Status status() {
        return new Status(pushed.get(), bytesPushed.get(), failures.get(), inFlight.size(), lastError, markDone);
    }

    /** Stops scanning, waits for pushes in flight, releases the spool. Idempotent. */
    public void stop() {
        stopping = true;
        Thread t;
        synchronized (this) {
            t = thread;
        }
        if (t != null) {
            try {
                t.join(TimeUnit.MINUTES.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        pool.shutdown();
        releaseLock();
    }

    @Override
    public void close() {
        stop();
    }


    /** Configures a {@link WalArchiver}. */
    public static final class Builder {
        private Repository repository;
        private WalArchive archive;
        private Path dataDirectory;
        private Path spool;
        private int parallelism = 4;
        private boolean markDone = true;
        private boolean allowNewCluster;
        private Duration pollInterval = Duration.ofMillis(200);
        private Duration idleExit;

        private Builder() {
        }

        public Builder repository(Repository repository) {
            this.repository = repository;
            return this;
        }

        /** The archive to push into (wins over {@link #repository}). */
        public Builder walArchive(WalArchive archive) {
            this.archive = archive;
            return this;
        }

        /** The server's data directory (its pg_wal and pg_control are read). */
        public Builder dataDirectory(Path dataDirectory) {
            this.dataDirectory = dataDirectory;
            return this;
        }

        /** Where the pushed/failed markers go (default {@link #defaultSpool}). */
        public Builder spool(Path spool) {
            this.spool = spool;
            return this;
        }

        /** Segments pushed at once (default 4). */
        public Builder parallelism(int parallelism) {
            if (parallelism < 1) {
                throw new ConfigurationException("parallelism must be at least 1, was " + parallelism);
            }
            this.parallelism = parallelism;
            return this;
        }

        /** Rename {@code .ready} to {@code .done} once durable, so PostgreSQL skips archive_command for it (default true). */
        public Builder markDone(boolean markDone) {
            this.markDone = markDone;
            return this;
        }

        public Builder allowNewCluster(boolean allow) {
            this.allowNewCluster = allow;
            return this;
        }

        /** How often archive_status is scanned (default 200 ms). */
        public Builder pollInterval(Duration interval) {
            this.pollInterval = interval;
            return this;
        }

        /** Stop after this long with nothing to push (the spawned pusher of the CLI); default never. */
        public Builder idleExit(Duration idle) {
            this.idleExit = idle;
            return this;
        }

        public WalArchiver build() {
            if (repository == null && archive == null) {
                throw new ConfigurationException("a WalArchiver needs a repository");
            }
            if (spool == null && dataDirectory != null) {
                spool = defaultSpool(dataDirectory);
            }
            return new WalArchiver(this);
        }
    }
}
