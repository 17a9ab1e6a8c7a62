package io.backupkit.postgres;

import io.backupkit.BackupException;
import io.backupkit.ConfigurationException;
import io.backupkit.IntegrityException;
import io.backupkit.LogArchive;
import io.backupkit.LogConflictException;
import io.backupkit.LogObject;
import io.backupkit.StorageException;
import io.backupkit.postgres.internal.PgConnectionConfig;
import io.backupkit.postgres.internal.wal.AckTracker;
import io.backupkit.postgres.internal.wal.ReplicationConnection;
import io.backupkit.postgres.internal.wal.ServerChecks;
import io.backupkit.postgres.internal.wal.WalNames;
import io.backupkit.postgres.internal.wal.WalObjectNames;
import io.backupkit.postgres.internal.wal.WalPageHeader;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/** The {@link WalReceiver}'s engine: one thread streams, a small pool stores. */
final class WalStreamer implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(WalStreamer.class);
    private static final long POLL_MILLIS = 10;

    private final WalArchive wal;
    private final LogArchive logs;
    private final PgConnectionConfig connection;
    private final String slot;
    private final boolean createSlot;
    private final Duration partialInterval;
    private final Duration statusInterval;
    private final Duration stopTimeout;
    private final Duration reconnectMin;
    private final Duration reconnectMax;
    private final int maxInFlight;
    private final String applicationName;
    private final WalReceiver.Listener listener;
    private final ExecutorService uploads;
    private final Object sleeper = new Object();

    private volatile boolean stopping;
    private volatile WalReceiver.State state = WalReceiver.State.NEW;
    private volatile long systemId;
    private volatile long segmentSize;
    private volatile int timeline;
    private volatile Lsn received = Lsn.INVALID;
    private volatile AckTracker ack = new AckTracker(Lsn.INVALID);
    /** The highest position ever stored durably (a new stream restarts at a segment start, below it). */
    private final AtomicReference<Lsn> storedMax = new AtomicReference<>(Lsn.INVALID);
    private final AtomicLong segmentsStored = new AtomicLong();
    private final AtomicLong partialsStored = new AtomicLong();
    private final AtomicLong bytesReceived = new AtomicLong();
    private final AtomicInteger reconnects = new AtomicInteger();
    private volatile String lastError;
    private volatile Instant lastStoredAt;
    /** Where the next stream starts after a timeline ended; null: work it out from the archive. */
    private Lsn nextStart;
    /** The timeline {@link #nextStart} is on (the one after a timeline that ended). */
    private Integer nextTimeline;
    /** A storage failure that retrying cannot fix (conflict, damage): ends the stream. */
    private final AtomicReference<BackupException> uploadFailure = new AtomicReference<>();
    /** Partials stored per segment, so older ones can be deleted once a longer one or the whole segment is durable. */
    private final Map<String, List<String>> storedPartials = new ConcurrentHashMap<>();

    WalStreamer(WalReceiver.Builder b) {
        this.wal = b.archive != null ? b.archive
                : WalArchive.builder().repository(b.repository).allowNewCluster(b.allowNewCluster).build();
        this.logs = wal.logArchive();
        this.connection = PgConnectionConfig.of(b.url, b.user, b.password, null, null);
        this.slot = b.slot;
        this.createSlot = b.createSlot;
        this.partialInterval = b.partialInterval;
        this.statusInterval = b.statusInterval;
        this.stopTimeout = b.stopTimeout;
        this.reconnectMin = b.reconnectMin;
        this.reconnectMax = b.reconnectMax;
        this.maxInFlight = b.maxSegmentsInFlight;
        this.applicationName = b.applicationName;
        this.listener = b.listener;
        AtomicInteger n = new AtomicInteger();
        this.uploads = Executors.newFixedThreadPool(b.uploadParallelism, r -> {
            Thread t = new Thread(r, "backupkit-wal-store-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    Duration stopTimeout() {
        return stopTimeout;
    }

    private String server() {
        return connection.host() + ":" + connection.port();
    }

    // ---- start: checks that fail fast with a message that says what to set ----------------------

    /** Checks the server and the repository, creates the slot if asked, records the cluster. */
    void prepare() {
        ServerChecks.Facts facts;
        try (Connection c = DriverManager.getConnection(connection.jdbcUrl(), connection.jdbcProperties(applicationName))) {
            facts = ServerChecks.read(c, slot);
            ServerChecks.check(facts, server(), slot, createSlot);
            if (facts.slot().isEmpty()) {
                try (PreparedStatement ps = c.prepareStatement("SELECT pg_create_physical_replication_slot(?, true)")) {
                    ps.setString(1, slot);
                    ps.execute();
                }
                LOG.info("created physical replication slot '{}' on {}", slot, server());
            }
        } catch (SQLException e) {
            throw new BackupException("cannot check the server " + connection.describe() + " before streaming WAL: "
                    + ServerChecks.explainConnectError(e.getMessage(), server(), connection.user()), e);
        }
        this.segmentSize = facts.segmentSize();
        try (ReplicationConnection rc = ReplicationConnection.open(connection, applicationName)) {
            ReplicationConnection.SystemIdentity id = rc.identifySystem();
            this.systemId = id.systemId();
            this.timeline = id.timeline();
        } catch (SQLException e) {
            String hint = ServerChecks.explainConnectError(e.getMessage(), server(), connection.user());
            throw new ConfigurationException("cannot open a replication connection to " + connection.describe() + ": " + hint, e);
        }
        wal.ensureCluster(new WalArchive.Cluster(systemId, facts.segmentSize(), facts.blockSize()), "the server " + server());
        LOG.info("streaming WAL of cluster {} (timeline {}) from {} on slot '{}' into {}", Long.toUnsignedString(systemId), timeline,
                server(), slot, wal.location());
    }

    // ---- the loop ------------------------------------------------------------------------------

    @Override
    public void run() {
        long delay = reconnectMin.toMillis();
        boolean first = true;
        while (!stopping) {
            if (!first) {
                reconnects.incrementAndGet();
            }
            first = false;
            try {
                state = WalReceiver.State.STREAMING;
                boolean progressed = session();
                lastError = null;
                if (progressed) {
                    delay = reconnectMin.toMillis();
                    continue;
                }
            } catch (Exception e) {
                if (stopping) {
                    break;
                }
                lastError = e.getMessage();
                LOG.warn("WAL streaming from {} failed: {}; retrying in {} ms", server(), e.getMessage(), delay);
                notifyFailed(e);
            }
            if (stopping) {
                break;
            }
            state = WalReceiver.State.RECONNECTING;
            sleep(delay);
            delay = Math.min(reconnectMax.toMillis(), delay * 2);
        }
        state = WalReceiver.State.STOPPED;
    }

    private void sleep(long millis) {
        synchronized (sleeper) {
            if (!stopping) {
                try {
                    sleeper.wait(millis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    stopping = true;
                }
            }
        }
    }

    void stop() {
        stopping = true;
        synchronized (sleeper) {
            sleeper.notifyAll();
        }
    }

    void shutdown() {
        uploads.shutdown();
        try {
            if (!uploads.awaitTermination(stopTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
                uploads.shutdownNow();
            }
        } catch (InterruptedException e) {
            uploads.shutdownNow();
            Thread.currentThread().interrupt();
        }
        state = WalReceiver.State.STOPPED;
    }

    /**
     * One connection: identify, follow the timeline, stream until the timeline ends, the stream
     * breaks or the receiver stops. Returns true when it ended a historic timeline (go on at once).
     */
    private boolean session() throws SQLException, InterruptedException {
        try (ReplicationConnection rc = ReplicationConnection.open(connection, applicationName)) {
            ReplicationConnection.SystemIdentity id = rc.identifySystem();
            if (id.systemId() != systemId) {
                throw new ConfigurationException("the server " + server() + " is now cluster " + Long.toUnsignedString(id.systemId())
                        + ", but this receiver streams cluster " + Long.toUnsignedString(systemId)
                        + "; start a receiver for the new cluster (with its own slot) instead");
            }
            TimelineHistory history = null;
            if (id.timeline() > 1) {
                history = storeHistories(rc, id.timeline());
            }
            Lsn start;
            int tli;
            if (nextStart != null) {
                start = nextStart;
                tli = nextTimeline;
                nextStart = null;
                nextTimeline = null;
            } else {
                start = resumePosition(id, history);
                tli = history == null ? id.timeline() : history.timelineAt(start);
            }
            Lsn end = tli == id.timeline() ? null : history.switchPointOf(tli).orElseThrow();
            if (tli != timeline) {
                int from = timeline;
                timeline = tli;
                if (from != 0) {
                    LOG.info("following timeline {} from {}", tli, start);
                    safe(() -> listener.timelineChanged(from, tli, start));
                }
            }
            boolean historicDone = stream(rc, tli, start, end);
            if (historicDone) {
                // the next timeline starts at the segment holding the switch point
                int next = history.timelineAt(end);
                nextStart = end.segmentStart(segmentSize);
                nextTimeline = next;
                LOG.info("timeline {} ended at {}; continuing on timeline {}", tli, end, next);
                int from = tli;
                timeline = next;
                safe(() -> listener.timelineChanged(from, next, end));
                return true;
            }
            return false;
        }
    }

    /** Fetches and stores the history files of the server's timeline and its ancestors; returns the server's. */
    private TimelineHistory storeHistories(ReplicationConnection rc, int serverTimeline) throws SQLException {
        byte[] content = rc.timelineHistory(serverTimeline);
        TimelineHistory h = TimelineHistory.parse(serverTimeline, content);
        storeHistory(serverTimeline, content);
        for (TimelineHistory.Entry e : h.entries()) {
            if (e.timeline() > 1 && !logs.exists(WalObjectNames.of(systemId, WalNames.historyName(e.timeline())))) {
                storeHistory(e.timeline(), rc.timelineHistory(e.timeline()));
            }
        }
        return h;
    }

    private void storeHistory(int tli, byte[] content) {
        String object = WalObjectNames.of(systemId, WalNames.historyName(tli));
        if (!logs.exists(object)) {
            logs.put(object, content, Map.of("systemId", Long.toUnsignedString(systemId), "kind", "history"));
            LOG.info("stored timeline history {}", WalNames.historyName(tli));
        }
    }

    /**
     * Where to start: the first segment, from the one holding the slot's restart position on, that
     * the archive does not hold whole — everything before the restart position was acknowledged, so
     * it is stored; segments after it may be stored out of order (parallel uploads), so the first
     * missing one is where streaming must resume. Without a restart position: after the newest whole
     * segment, else at the oldest partial, else the server's current position. Only segments on the
     * server's timeline path count (a segment whose timeline is the one its last byte belongs to in
     * the server's history), so WAL an old primary wrote after a fork does not. Always a segment start.
     */
    private Lsn resumePosition(ReplicationConnection.SystemIdentity id, TimelineHistory history) throws SQLException {
        java.util.Set<Long> full = new java.util.HashSet<>();
        long maxFull = -1;
        long minPartial = Long.MAX_VALUE;
        for (WalArchive.WalFile f : wal.files(systemId)) {
            if (f.kind() == WalArchive.WalFile.Kind.SEGMENT) {
                long n = WalNames.segmentNumber(f.fileName(), segmentSize);
                int onPath = history == null ? id.timeline() : history.timelineAt(new Lsn((n + 1) * segmentSize - 1));
                if (f.timeline() == onPath) {
                    full.add(n);
                    maxFull = Math.max(maxFull, n);
                }
            } else if (f.kind() == WalArchive.WalFile.Kind.STREAM_PARTIAL) {
                minPartial = Math.min(minPartial, WalNames.segmentNumber(f.fileName().substring(0, 24), segmentSize));
            }
        }
        Optional<Lsn> restart = slotStart();
        if (restart.isPresent() && restart.get().value() != 0) {
            long n = restart.get().segmentNumber(segmentSize);
            while (full.contains(n)) {
                n++;
            }
            return new Lsn(n * segmentSize);
        }
        if (maxFull >= 0) {
            return new Lsn((maxFull + 1) * segmentSize);
        }
        if (minPartial != Long.MAX_VALUE) {
            return new Lsn(minPartial * segmentSize);
        }
        return id.flushPosition().segmentStart(segmentSize);
    }

    private Optional<Lsn> slotStart() throws SQLException {
        try (Connection c = DriverManager.getConnection(connection.jdbcUrl(), connection.jdbcProperties(applicationName))) {
            return ServerChecks.read(c, slot).slot().map(ServerChecks.Slot::restartLsn);
        }
    }

    // ---- streaming one timeline ------------------------------------------------------------------

    /** The segment being received. */
    private final class Segment {
        final String name;
        final Lsn start;
        final byte[] bytes;
        int length;
        int lastPartialLength;

        Segment(int tli, Lsn start) {
            this.start = start;
            this.name = WalNames.segmentOf(tli, start, segmentSize);
            this.bytes = new byte[(int) segmentSize];
        }
    }

    /** Streams timeline {@code tli} from {@code start} until {@code end} (null: open-ended); true when it reached {@code end}. */
    private boolean stream(ReplicationConnection rc, int tli, Lsn start, Lsn end) throws SQLException, InterruptedException {
        PGReplicationStream stream;
        try {
            stream = rc.startPhysical(slot, start, tli);
        } catch (SQLException e) {
            String msg = e.getMessage() == null ? "" : e.getMessage();
            if (msg.contains("has already been removed")) {
                Optional<Lsn> slotStart = slotStart();
                Lsn jump = slotStart.filter(s -> s.isAfter(start)).map(s -> s.segmentStart(segmentSize)).orElse(null);
                if (jump != null) {
                    String gap = "the server no longer has the WAL from " + start + " to " + jump + " (" + msg
                            + "): the archive has a gap there; take a new base backup. Streaming goes on from " + jump;
                    LOG.error(gap);
                    lastError = gap;
                    nextStart = jump;
                    nextTimeline = tli;
                }
            }
            throw e;
        }
        if (start.segmentOffset(segmentSize) != 0) {
            throw new IllegalStateException("streams start at a segment start, not at " + start);
        }
        AckTracker tracker = new AckTracker(start);
        this.ack = tracker;
        Semaphore slots = new Semaphore(maxInFlight);
        Segment seg = new Segment(tli, start);
        Lsn pos = start;
        Lsn acked = start;
        long lastStatus = System.nanoTime();
        long lastPartial = System.nanoTime();
        boolean reachedEnd = false;
        try {
            while (!stopping) {
                BackupException failure = uploadFailure.getAndSet(null);
                if (failure != null) {
                    throw failure;
                }
                ByteBuffer data = stream.readPending();
                if (data != null) {
                    int n = data.remaining();
                    Lsn dataStart = new Lsn(stream.getLastReceiveLSN().asLong() - n);
                    if (!dataStart.equals(pos)) {
                        throw new SQLException("the server sent WAL from " + dataStart + " while " + pos + " was expected");
                    }
                    while (data.hasRemaining()) {
                        int take = Math.min(data.remaining(), seg.bytes.length - seg.length);
                        data.get(seg.bytes, seg.length, take);
                        seg.length += take;
                        pos = pos.plus(take);
                        if (seg.length == seg.bytes.length) {
                            storeSegment(seg, tracker, slots);
                            seg = new Segment(tli, pos);
                        }
                    }
                    bytesReceived.addAndGet(n);
                    received = pos;
                    if (end != null && !pos.isBefore(end)) {
                        reachedEnd = true;
                        break;
                    }
                } else {
                    if (stream.isClosed()) {
                        throw new SQLException("the server ended the replication stream at " + pos
                                + " (server shutdown or a timeline switch on a standby)");
                    }
                    Thread.sleep(POLL_MILLIS);
                }
                long now = System.nanoTime();
                if (now - lastPartial >= partialInterval.toNanos()) {
                    if (seg.length > seg.lastPartialLength) {
                        storePartial(seg, tracker, slots);
                    }
                    lastPartial = now;
                }
                Lsn stored = tracker.stored();
                if (!stored.equals(acked) || now - lastStatus >= statusInterval.toNanos()) {
                    report(stream, stored);
                    acked = stored;
                    lastStatus = now;
                }
            }
            // stopping, or the end of a historic timeline: keep what was received
            if (seg.length > seg.lastPartialLength && seg.length < seg.bytes.length) {
                storePartial(seg, tracker, slots);
            }
            if (!tracker.awaitIdle(stopTimeout.toMillis())) {
                LOG.warn("stopping with {} uploads unfinished after {}; they were not acknowledged to the server",
                        tracker.inFlight(), stopTimeout);
            }
            BackupException failure = uploadFailure.getAndSet(null);
            if (failure != null) {
                throw failure;
            }
            report(stream, tracker.stored());
            return reachedEnd;
        } finally {
            // no stream.close(): after the server ends a historic timeline, pgjdbc's CopyDone handshake
            // waits for messages it does not expect; closing the connection (next) ends the walsender
            this.ack = new AckTracker(tracker.stored());
        }
    }

    /** Reports the received and the durably stored positions; the server may recycle WAL before the latter. */
    private static void report(PGReplicationStream stream, Lsn stored) throws SQLException {
        LogSequenceNumber flushed = LogSequenceNumber.valueOf(stored.value());
        stream.setFlushedLSN(flushed);
        stream.setAppliedLSN(flushed);
        stream.forceUpdateStatus();
    }

    private void storeSegment(Segment seg, AckTracker tracker, Semaphore slots) throws InterruptedException {
        byte[] bytes = seg.bytes;
        String name = seg.name;
        Lsn end = seg.start.plus(bytes.length);
        checkHeader(name, bytes);
        slots.acquire();
        tracker.started(end);
        uploads.execute(() -> {
            try {
                if (store(WalObjectNames.of(systemId, name), bytes, "segment")) {
                    segmentsStored.incrementAndGet();
                    lastStoredAt = Instant.now();
                    Lsn storedUpTo = stored(tracker.finished(end));
                    deletePartials(name, Integer.MAX_VALUE);
                    safe(() -> listener.stored(name, false, storedUpTo));
                }
            } finally {
                slots.release();
            }
        });
    }

    private void storePartial(Segment seg, AckTracker tracker, Semaphore slots) throws InterruptedException {
        int length = seg.length;
        byte[] copy = Arrays.copyOf(seg.bytes, length);
        seg.lastPartialLength = length;
        String segment = seg.name;
        String name = WalNames.streamPartialName(segment, length);
        Lsn end = seg.start.plus(length);
        slots.acquire();
        tracker.started(end);
        uploads.execute(() -> {
            try {
                if (store(WalObjectNames.of(systemId, name), copy, "partial")) {
                    partialsStored.incrementAndGet();
                    lastStoredAt = Instant.now();
                    Lsn storedUpTo = stored(tracker.finished(end));
                    storedPartials.computeIfAbsent(segment, k -> java.util.Collections.synchronizedList(new ArrayList<>())).add(name);
                    deletePartials(segment, length);
                    safe(() -> listener.stored(name, true, storedUpTo));
                }
            } finally {
                slots.release();
            }
        });
    }

    private Lsn stored(Lsn upTo) {
        return storedMax.accumulateAndGet(upTo, Lsn::max);
    }

    /** The first page of a complete segment must name this cluster and its own position. */
    private void checkHeader(String name, byte[] bytes) {
        Optional<WalPageHeader> h = WalPageHeader.parse(bytes, 0, bytes.length);
        Lsn expected = WalNames.segmentStart(name, segmentSize);
        if (h.isEmpty() || h.get().systemId() != systemId || h.get().pageAddress() != expected.value()) {
            throw new IntegrityException(name, "the received segment's page header does not match (expected cluster "
                    + Long.toUnsignedString(systemId) + " at " + expected + ")");
        }
    }

    /** Stores one object, retrying storage failures until it is durable or the receiver stops. */
    private boolean store(String object, byte[] content, String kind) {
        long delay = 500;
        while (true) {
            try {
                logs.put(object, content, Map.of("systemId", Long.toUnsignedString(systemId), "kind", kind));
                return true;
            } catch (LogConflictException | IntegrityException e) {
                uploadFailure.compareAndSet(null, e);
                LOG.error("cannot store {}: {}", object, e.getMessage());
                return false;
            } catch (RuntimeException e) {
                if (stopping && delay > stopTimeout.toMillis()) {
                    LOG.error("giving up storing {} while stopping: {}; it was not acknowledged to the server", object, e.getMessage());
                    return false;
                }
                lastError = "storing " + object + " failed: " + e.getMessage();
                LOG.warn("storing {} failed ({}); retrying in {} ms; nothing after it is acknowledged to the server meanwhile",
                        object, e.getMessage(), delay);
                safe(() -> listener.failed(e));
                try {
                    Thread.sleep(delay);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return false;
                }
                delay = Math.min(30_000, delay * 2);
            }
        }
    }

    /** Deletes stored partials of {@code segment} shorter than {@code keepLength} (all of them for a whole segment). */
    private void deletePartials(String segment, int keepLength) {
        try {
            List<String> remove = new ArrayList<>();
            if (keepLength == Integer.MAX_VALUE) {
                for (LogObject o : logs.list(WalObjectNames.of(systemId, segment) + ".partial.")) {
                    remove.add(o.name());
                }
                storedPartials.remove(segment);
            } else {
                List<String> mine = storedPartials.getOrDefault(segment, List.of());
                synchronized (mine) {
                    for (String n : new ArrayList<>(mine)) {
                        long len = Long.parseLong(n.substring(n.lastIndexOf('.') + 1), 16);
                        if (len < keepLength) {
                            remove.add(WalObjectNames.of(systemId, n));
                            mine.remove(n);
                        }
                    }
                }
            }
            if (!remove.isEmpty()) {
                logs.delete(remove);
            }
        } catch (StorageException e) {
            LOG.debug("could not delete superseded partial segments of {}: {}", segment, e.getMessage());
        }
    }

    private void notifyFailed(Exception e) {
        safe(() -> listener.failed(e));
    }

    private static void safe(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            LOG.warn("WalReceiver listener failed: {}", e.toString());
        }
    }

    // ---- status ----------------------------------------------------------------------------------

    WalReceiver.Status status() {
        return new WalReceiver.Status(state, systemId, timeline, received, storedMax.get(), segmentsStored.get(), partialsStored.get(),
                bytesReceived.get(), reconnects.get(), lastError, lastStoredAt);
    }

    boolean awaitStored(Lsn lsn, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (storedMax.get().isBefore(lsn)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }
}
