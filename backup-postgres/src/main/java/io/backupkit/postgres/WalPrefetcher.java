package io.backupkit.postgres;

import io.backupkit.BackupException;
import io.backupkit.ConfigurationException;
import io.backupkit.postgres.internal.wal.SpoolLock;
import io.backupkit.postgres.internal.wal.WalNames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fetches WAL segments ahead of recovery into a local spool, in parallel, so {@code restore_command}
 * finds the next segment on local disk ({@link #take}) instead of reading the repository. The spool
 * holds up to {@link Builder#ahead} complete segments after the newest one recovery asked for;
 * segments recovery has passed are deleted. Segments appear in the spool only whole and verified
 * (written to a temporary name, then renamed). Only whole segments are prefetched: a streaming
 * partial (the end of the archive) is always read from the repository, since it may still grow.
 *
 * <pre>{@code
 * WalPrefetcher p = WalPrefetcher.builder().walArchive(wal).systemId(sysid).spool(spool).ahead(8).build();
 * if (!WalPrefetcher.take(spool, "000000010000000000000007", dest)) wal.fetch(sysid, "000000010000000000000007", dest);
 * p.requested("000000010000000000000007");
 * p.runUntilIdle();                                          // or fill() once
 * }</pre>
 */
public final class WalPrefetcher {
    private static final Logger LOG = LoggerFactory.getLogger(WalPrefetcher.class);
    /** The lock a running prefetcher holds in its spool. */
    public static final String LOCK_FILE = "prefetch.lock";
    /** The newest segment recovery asked for, written by the fetch command. */
    public static final String REQUEST_FILE = "requested";

    private final WalArchive wal;
    private final long systemId;
    private final Path spool;
    private final int ahead;
    private final int parallelism;
    private final Duration idleExit;
    private long segmentSize;
    private String lastRequest;
    private String anchor;
    private final java.util.Set<String> placed = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private WalPrefetcher(Builder b) {
        this.wal = b.archive;
        this.systemId = b.systemId;
        this.spool = b.spool;
        this.ahead = b.ahead;
        this.parallelism = b.parallelism;
        this.idleExit = b.idleExit;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The default spool of a data directory: {@code pg_wal/.backupkit-prefetch}. */
    public static Path defaultSpool(Path dataDirectory) {
        return dataDirectory.resolve("pg_wal").resolve(".backupkit-prefetch");
    }

    /**
     * Moves a prefetched {@code walFileName} from the spool to {@code destination}.
     *
     * @return false when the spool does not hold it
     */
    public static boolean take(Path spool, String walFileName, Path destination) {
        Path p = spool.resolve(walFileName);
        try {
            Files.move(p, destination, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return true;
        } catch (NoSuchFileException e) {
            return false;
        } catch (java.nio.file.AtomicMoveNotSupportedException e) {
            try {
                Files.copy(p, destination, StandardCopyOption.REPLACE_EXISTING);
                Files.deleteIfExists(p);
                return true;
            } catch (IOException ex) {
                throw new UncheckedIOException("cannot move " + p + " to " + destination, ex);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move " + p + " to " + destination, e);
        }
    }

    /** Records that recovery asked for {@code walFileName} (prefetching continues after it). */
    public static void requested(Path spool, String walFileName) {
        try {
            Files.createDirectories(spool);
            Path tmp = spool.resolve("." + REQUEST_FILE + ".tmp");
            Files.writeString(tmp, walFileName + "\n", StandardCharsets.US_ASCII);
            Files.move(tmp, spool.resolve(REQUEST_FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write to spool " + spool, e);
        }
    }

    /** Whether a prefetcher holds the spool's lock now. */
    public static boolean isRunning(Path spool) {
        return SpoolLock.isHeld(spool.resolve(LOCK_FILE));
    }

    private long segmentSize() {
        if (segmentSize == 0) {
            segmentSize = wal.cluster(systemId).map(WalArchive.Cluster::segmentSize)
                    .orElseThrow(() -> new ConfigurationException("repository " + wal.location() + " archives no WAL of cluster "
                            + Long.toUnsignedString(systemId)));
        }
        return segmentSize;
    }

    /**
     * Makes the spool hold the {@code ahead} segments after the last requested one: deletes what
     * recovery passed, fetches what is missing (in parallel). Returns how many were fetched.
     */
    public synchronized int fill() {
        Optional<String> last = lastRequested();
        if (last.isPresent() && !last.get().equals(lastRequest) && WalNames.kind(last.get()) == WalNames.Kind.SEGMENT) {
            lastRequest = last.get();
            anchor = lastRequest;
        }
        // segments taken from the spool without a request (restore_command's shell fast path) move the window too
        for (String n : new ArrayList<>(placed)) {
            if (!Files.exists(spool.resolve(n))) {
                placed.remove(n);
                if (anchor != null && n.substring(0, 8).equals(anchor.substring(0, 8)) && n.compareTo(anchor) > 0) {
                    anchor = n;
                }
            }
        }
        if (anchor == null) {
            return 0;
        }
        String requested = anchor;
        int tli = WalNames.timeline(requested);
        long base = WalNames.segmentNumber(requested, segmentSize());
        List<String> wanted = new ArrayList<>();
        for (int i = 1; i <= ahead; i++) {
            wanted.add(WalNames.segmentName(tli, base + i, segmentSize()));
        }
        removeStale(wanted);
        List<String> missing = wanted.stream().filter(n -> !Files.exists(spool.resolve(n))).toList();
        if (missing.isEmpty()) {
            return 0;
        }
        AtomicInteger fetched = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(parallelism, missing.size()), r -> {
            Thread t = new Thread(r, "backupkit-wal-prefetch");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (String name : missing) {
                fs.add(pool.submit(() -> {
                    if (fetchOne(name)) {
                        fetched.incrementAndGet();
                    }
                }));
            }
            for (Future<?> f : fs) {
                try {
                    f.get();
                } catch (java.util.concurrent.ExecutionException e) {
                    LOG.debug("prefetch failed: {}", e.getCause().toString());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            pool.shutdownNow();
        }
        return fetched.get();
    }

    /** Fetches one whole segment into the spool (not a partial: that is the end and may grow). */
    private boolean fetchOne(String name) {
        Path tmp = spool.resolve("." + name + ".prefetch");
        try {
            WalArchive.FetchResult r = wal.fetch(systemId, name, tmp);
            if (r.status() != WalArchive.FetchStatus.FOUND) {
                Files.deleteIfExists(tmp);
                return false;
            }
            Files.move(tmp, spool.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            placed.add(name);
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (BackupException e) {
            // the restore command reads it itself and reports the error then
            LOG.debug("prefetching {} failed: {}", name, e.getMessage());
            return false;
        }
    }

    private void removeStale(List<String> wanted) {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(spool)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (WalNames.kind(n) == WalNames.Kind.SEGMENT && !wanted.contains(n)) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot clean spool " + spool, e);
        }
    }

    private Optional<String> lastRequested() {
        try {
            return Optional.of(Files.readString(spool.resolve(REQUEST_FILE), StandardCharsets.US_ASCII).trim());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Takes the spool's lock and keeps it filled until no new request came for the idle time (then
     * deletes what it prefetched and returns). Returns false at once when another prefetcher runs.
     */
    public boolean runUntilIdle() {
        Optional<SpoolLock> held = SpoolLock.tryAcquire(spool.resolve(LOCK_FILE));
        if (held.isEmpty()) {
            return false;
        }
        try (SpoolLock ignored = held.get()) {
            String seen = null;
            long lastChange = System.nanoTime();
            while (System.nanoTime() - lastChange < idleExit.toNanos()) {
                fill();
                String now;
                synchronized (this) {
                    now = anchor;
                }
                if (now != null && !now.equals(seen)) {
                    seen = now;
                    lastChange = System.nanoTime();
                }
                Thread.sleep(50);
            }
            removeStale(List.of());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return true;
    }

    /** Configures a {@link WalPrefetcher}. */
    public static final class Builder {
        private WalArchive archive;
        private long systemId;
        private Path spool;
        private int ahead = 8;
        private int parallelism = 4;
        private Duration idleExit = Duration.ofSeconds(30);

        private Builder() {
        }

        public Builder walArchive(WalArchive archive) {
            this.archive = archive;
            return this;
        }

        public Builder systemId(long systemId) {
            this.systemId = systemId;
            return this;
        }

        public Builder spool(Path spool) {
            this.spool = spool;
            return this;
        }

        /** Segments to hold ahead of recovery (default 8). */
        public Builder ahead(int ahead) {
            if (ahead < 1) {
                throw new ConfigurationException("prefetch count must be at least 1, was " + ahead);
            }
            this.ahead = ahead;
            return this;
        }

        /** Downloads at once (default 4). */
        public Builder parallelism(int parallelism) {
            this.parallelism = Math.max(1, parallelism);
            return this;
        }

        /** {@link #runUntilIdle()} returns after this long without a new request (default 30 s). */
        public Builder idleExit(Duration idle) {
            this.idleExit = idle;
            return this;
        }

        public WalPrefetcher build() {
            if (archive == null || spool == null) {
                throw new ConfigurationException("a WalPrefetcher needs a WalArchive and a spool directory");
            }
            return new WalPrefetcher(this);
        }
    }
}
