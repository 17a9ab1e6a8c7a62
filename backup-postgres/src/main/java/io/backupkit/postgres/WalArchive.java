package io.backupkit.postgres;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.backupkit.ConfigurationException;
import io.backupkit.IntegrityException;
import io.backupkit.LogArchive;
import io.backupkit.LogConflictException;
import io.backupkit.LogObject;
import io.backupkit.LogPutResult;
import io.backupkit.ObjectNotFoundException;
import io.backupkit.Repository;
import io.backupkit.StorageException;
import io.backupkit.postgres.internal.wal.PgControl;
import io.backupkit.postgres.internal.wal.WalNames;
import io.backupkit.postgres.internal.wal.WalObjectNames;
import io.backupkit.postgres.internal.wal.WalPageHeader;
import io.backupkit.spi.CompressionCodec;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;

/**
 * The PostgreSQL WAL archive of a repository: segments, timeline history files and backup history
 * files of one or more clusters, each a write-once sealed object of the {@code wal}
 * {@link LogArchive}, named by system identifier and timeline (see docs/repository-format.md).
 * Used by {@code archive_command} ({@link #push}), {@code restore_command} ({@link #fetch}), the
 * streaming {@link WalReceiver}, verification ({@link #continuity}) and retention ({@link #expire}).
 * Thread-safe; share one per repository.
 *
 * <pre>{@code
 * WalArchive wal = WalArchive.builder().repository(repo).dataDirectory(Path.of("/var/lib/postgresql/15/main")).build();
 * wal.push(Path.of("pg_wal/000000010000000000000003"));          // archive_command
 * wal.fetch("000000010000000000000003", Path.of("pg_wal/RECOVERYXLOG"));   // restore_command
 * WalContinuity c = wal.continuity(wal.systemIds().get(0), 1, Lsn.parse("0/2000028"));
 * }</pre>
 */
public final class WalArchive {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final LogArchive archive;
    private final Long expectedSystemId;
    private final Path dataDirectory;
    private final boolean allowNewCluster;
    private final Map<Long, Cluster> clusters = new ConcurrentHashMap<>();

    private WalArchive(Builder b) {
        if (b.repository == null) {
            throw new ConfigurationException("a WalArchive needs a repository");
        }
        LogArchive.Builder lb = LogArchive.builder().repository(b.repository).namespace(WalObjectNames.NAMESPACE);
        if (b.compression != null) {
            lb.compression(b.compression);
        }
        this.archive = lb.build();
        this.expectedSystemId = b.systemId;
        this.dataDirectory = b.dataDirectory;
        this.allowNewCluster = b.allowNewCluster;
    }

    /** The WAL archive of {@code repository} with default settings. */
    public static WalArchive of(Repository repository) {
        return builder().repository(repository).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The underlying engine-neutral archive (namespace {@code wal}). */
    public LogArchive logArchive() {
        return archive;
    }

    /** Where the repository lives, without credentials. */
    public String location() {
        return archive.location();
    }

    // ---- clusters ------------------------------------------------------------------------------

    /**
     * What the archive records about one cluster, written with its first segment.
     *
     * @param systemId    the system identifier
     * @param segmentSize {@code wal_segment_size} in bytes
     * @param blockSize   WAL block size in bytes
     */
    public record Cluster(@JsonProperty("systemId") long systemId, @JsonProperty("segmentSize") long segmentSize,
                          @JsonProperty("blockSize") int blockSize) {
        /** The system identifier as PostgreSQL prints it. */
        public String systemIdText() {
            return Long.toUnsignedString(systemId);
        }
    }

    /** System identifiers of every cluster whose WAL this repository archives. */
    public List<Long> systemIds() {
        List<Long> ids = new ArrayList<>();
        for (LogObject o : archive.list(WalObjectNames.CLUSTERS)) {
            try {
                ids.add(Long.parseUnsignedLong(o.name().substring(WalObjectNames.CLUSTERS.length())));
            } catch (NumberFormatException e) {
                // not ours
            }
        }
        ids.sort(Long::compareUnsigned);
        return ids;
    }

    /** The record of cluster {@code systemId}, if its WAL is archived here. */
    public Optional<Cluster> cluster(long systemId) {
        Cluster c = clusters.get(systemId);
        if (c != null) {
            return Optional.of(c);
        }
        byte[] json;
        try {
            json = archive.readAllBytes(WalObjectNames.cluster(systemId));
        } catch (ObjectNotFoundException e) {
            return Optional.empty();
        }
        try {
            c = JSON.readValue(json, Cluster.class);
        } catch (IOException e) {
            throw new IntegrityException("wal/" + WalObjectNames.cluster(systemId), "cluster record is unreadable", e);
        }
        clusters.put(systemId, c);
        return Optional.of(c);
    }

    /** Records a cluster (write-once, idempotent: the content depends only on the cluster). */
    Cluster register(Cluster c) {
        try {
            archive.put(WalObjectNames.cluster(c.systemId()), JSON.writeValueAsBytes(c), Map.of());
        } catch (LogConflictException e) {
            throw new ConfigurationException("wal/" + WalObjectNames.cluster(c.systemId()) + " records cluster " + c.systemIdText()
                    + " with other settings (segment or block size) than " + c + "; was the cluster re-initialized?");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        clusters.put(c.systemId(), c);
        return c;
    }

    /**
     * The cluster a call is about: the one given to the builder, else the one whose data directory
     * was given, else the only cluster archived here.
     *
     * @throws ConfigurationException when that cannot be told
     */
    public long resolveSystemId() {
        if (expectedSystemId != null) {
            return expectedSystemId;
        }
        Optional<Long> fromControl = dataDirectory == null ? Optional.empty() : PgControl.systemId(dataDirectory);
        if (fromControl.isPresent()) {
            return fromControl.get();
        }
        List<Long> ids = systemIds();
        if (ids.size() == 1) {
            return ids.get(0);
        }
        if (ids.isEmpty()) {
            throw new ConfigurationException("repository " + location() + " holds no archived WAL yet");
        }
        throw new ConfigurationException("repository " + location() + " archives the WAL of several clusters ("
                + ids.stream().map(Long::toUnsignedString).toList() + "): say which with --system-id (WalArchive.builder().systemId(…))");
    }

    /** The WAL position where segment {@code segmentName} starts, for {@code segmentSize}-byte segments. */
    public static Lsn segmentStartOf(String segmentName, long segmentSize) {
        if (WalNames.kind(segmentName) != WalNames.Kind.SEGMENT) {
            throw new ConfigurationException("'" + segmentName + "' is not a WAL segment name");
        }
        return WalNames.segmentStart(segmentName, segmentSize);
    }

    /** The name of the segment that holds {@code lsn} on {@code timeline}. */
    public static String segmentName(int timeline, Lsn lsn, long segmentSize) {
        return WalNames.segmentOf(timeline, lsn, segmentSize);
    }

    // ---- push (archive_command) ----------------------------------------------------------------

    /**
     * What {@link #push} did.
     *
     * @param fileName   the WAL file name
     * @param systemId   the cluster
     * @param timeline   the timeline in the name
     * @param status     stored now (durable), or already archived with the same content
     * @param size       bytes of the file
     * @param storedSize bytes in the repository
     * @param duration   how long it took
     */
    public record PushResult(String fileName, long systemId, int timeline, LogPutResult.Status status, long size,
                             long storedSize, Duration duration) {
    }

    /**
     * Archives one WAL file (segment, timeline history, backup history or a promotion's
     * {@code .partial}) and returns once it is durable. Safe to call again for the same file:
     * same content succeeds, different content is a {@link LogConflictException}. Checks that a
     * segment's page header matches its name and size, and that it belongs to this cluster: the
     * one whose data directory was given (its pg_control), the builder's system id, and the
     * clusters this repository already archives (a new one needs {@link Builder#allowNewCluster}).
     *
     * @throws ConfigurationException for a file that is not WAL or belongs to another cluster
     * @throws LogConflictException   when a different file of that name is archived
     * @throws StorageException       when the repository cannot be reached; nothing is acknowledged
     */
    public PushResult push(Path file) {
        long started = System.nanoTime();
        String name = file.getFileName().toString();
        WalNames.Kind kind = WalNames.kind(name);
        if (kind == null || kind == WalNames.Kind.STREAM_PARTIAL) {
            throw new ConfigurationException(file + " is not a WAL file PostgreSQL archives (expected a segment like "
                    + "000000010000000000000003, a 00000002.history file, a .backup or a .partial file)");
        }
        long size;
        try {
            size = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new ConfigurationException("WAL file " + file + " does not exist");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        long systemId;
        Map<String, String> attributes = new LinkedHashMap<>();
        if (kind == WalNames.Kind.SEGMENT || kind == WalNames.Kind.PROMOTION_PARTIAL) {
            WalPageHeader h = readHeader(file);
            String segment = name.substring(0, 24);
            if (size != h.segmentSize()) {
                throw new ConfigurationException("WAL segment " + file + " has " + size + " bytes but its page header says segments are "
                        + h.segmentSize() + " bytes: an incomplete copy? Nothing was archived.");
            }
            Lsn expectedStart = WalNames.segmentStart(segment, h.segmentSize());
            if (h.pageAddress() != expectedStart.value()) {
                throw new ConfigurationException("WAL segment " + file + " holds WAL from " + new Lsn(h.pageAddress())
                        + " but its name says " + expectedStart + ": a renamed or mixed-up file. Nothing was archived.");
            }
            systemId = h.systemId();
            checkCluster(file, systemId);
            ensureCluster(new Cluster(systemId, h.segmentSize(), h.blockSize()), "WAL segment " + file);
            WalPageHeader.versionOf(h.magic()).ifPresent(v -> attributes.put("postgresVersion", Integer.toString(v)));
        } else {
            systemId = clusterForTextFile(file);
            if (kind == WalNames.Kind.HISTORY) {
                try {
                    TimelineHistory.parse(WalNames.timeline(name), Files.readAllBytes(file));
                } catch (IllegalArgumentException e) {
                    throw new ConfigurationException("timeline history file " + file + " is malformed: " + e.getMessage());
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot read " + file, e);
                }
            }
        }
        attributes.put("systemId", Long.toUnsignedString(systemId));
        attributes.put("kind", kind.name().toLowerCase(java.util.Locale.ROOT));
        String object = WalObjectNames.of(systemId, name);
        LogPutResult r;
        try {
            r = archive.put(object, file, attributes);
        } catch (LogConflictException e) {
            throw new LogConflictException(e.objectName(), e.storedSha256(), e.offeredSha256(), "WAL file " + name + " of cluster "
                    + Long.toUnsignedString(systemId) + " is already archived with different content: " + e.getMessage());
        }
        return new PushResult(name, systemId, WalNames.timeline(name), r.status(), size, r.storedSize(),
                Duration.ofNanos(System.nanoTime() - started));
    }

    private static WalPageHeader readHeader(Path file) {
        byte[] head = new byte[WalPageHeader.LENGTH];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        } catch (AccessDeniedException e) {
            throw new ConfigurationException("cannot read WAL file " + file + ": permission denied");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return WalPageHeader.parse(head, 0, n).orElseThrow(() -> new ConfigurationException("WAL segment " + file
                + " does not start with a WAL page header: it is not a WAL segment, or it is damaged. Nothing was archived."));
    }

    /** The segment's cluster must be the archiving server's (pg_control) and the builder's. */
    private void checkCluster(Path file, long systemId) {
        if (expectedSystemId != null && expectedSystemId != systemId) {
            throw new ConfigurationException("WAL segment " + file + " belongs to another cluster: its page header has system identifier "
                    + Long.toUnsignedString(systemId) + ", expected " + Long.toUnsignedString(expectedSystemId) + ". Nothing was archived.");
        }
        if (dataDirectory != null) {
            Optional<Long> server = PgControl.systemId(dataDirectory);
            if (server.isPresent() && server.get() != systemId) {
                throw new ConfigurationException("WAL segment " + file + " belongs to another cluster: its page header has system identifier "
                        + Long.toUnsignedString(systemId) + ", but the server archiving it (" + dataDirectory + ") is cluster "
                        + Long.toUnsignedString(server.get()) + ". Nothing was archived.");
            }
        }
    }

    /**
     * Makes sure cluster {@code c} is recorded: records it when new (refused when the repository
     * archives another cluster, unless {@link Builder#allowNewCluster}), checks its segment size when known.
     *
     * @param what for messages: what brings the cluster ("WAL segment pg_wal/0000…", "the server db:5432")
     */
    Cluster ensureCluster(Cluster c, String what) {
        Optional<Cluster> known = cluster(c.systemId());
        if (known.isEmpty()) {
            checkNewClusterAllowed(what, c.systemId());
            return register(c);
        }
        if (known.get().segmentSize() != c.segmentSize()) {
            throw new ConfigurationException(what + " has " + c.segmentSize() + "-byte WAL segments, but cluster "
                    + c.systemIdText() + " was archived with " + known.get().segmentSize() + "-byte segments");
        }
        return known.get();
    }

    private void checkNewClusterAllowed(String what, long systemId) {
        List<Long> ids = systemIds();
        if (!ids.isEmpty() && !ids.contains(systemId) && !allowNewCluster) {
            throw new ConfigurationException(what + " is from cluster " + Long.toUnsignedString(systemId)
                    + ", but repository " + location() + " archives the WAL of cluster "
                    + String.join(", ", ids.stream().map(Long::toUnsignedString).toList())
                    + ". Archive each cluster into its own repository; if this cluster replaced that one (new initdb, pg_upgrade),"
                    + " allow it once with --new-cluster. Nothing was archived.");
        }
    }

    private long clusterForTextFile(Path file) {
        if (expectedSystemId != null) {
            return expectedSystemId;
        }
        Optional<Long> fromControl = dataDirectory == null ? Optional.empty() : PgControl.systemId(dataDirectory);
        if (fromControl.isPresent()) {
            return fromControl.get();
        }
        List<Long> ids = systemIds();
        if (ids.size() == 1) {
            return ids.get(0);
        }
        throw new ConfigurationException("cannot tell which cluster " + file.getFileName() + " belongs to (it has no system identifier): "
                + "run wal-push in the data directory (as archive_command does) or give --system-id");
    }

    // ---- fetch (restore_command) ---------------------------------------------------------------

    /**
     * What {@link #fetch} found.
     *
     * @param fileName   the requested WAL file name
     * @param status     found whole, found only as a partial segment (zero-padded), or not archived
     * @param bytes      bytes written to the destination (a segment's full size also when partial)
     * @param validBytes bytes of real WAL (less than {@code bytes} for a partial segment)
     */
    public record FetchResult(String fileName, FetchStatus status, long bytes, long validBytes) {
        public boolean found() {
            return status != FetchStatus.NOT_FOUND;
        }
    }

    /** Outcome of a fetch. */
    public enum FetchStatus {
        FOUND,
        /**
         * Only a partial segment written while streaming exists (the receiver stopped mid-segment):
         * its valid bytes followed by zeros, which recovery reads as the end of WAL.
         */
        FOUND_PARTIAL,
        NOT_FOUND
    }

    /** {@link #fetch(long, String, Path)} for the cluster {@link #resolveSystemId()} names. */
    public FetchResult fetch(String fileName, Path destination) {
        return fetch(resolveSystemId(), fileName, destination);
    }

    /**
     * Writes WAL file {@code fileName} of cluster {@code systemId} to {@code destination} (through
     * a temporary file in the same directory, renamed when complete and verified). A segment
     * archived only as a streaming partial is returned zero-padded to the segment size, so recovery
     * replays what was received and then sees the end of WAL.
     *
     * @return {@link FetchStatus#NOT_FOUND} when it is not archived (restore_command's exit 1)
     * @throws IntegrityException for damaged objects; {@link StorageException} when the repository
     *                            cannot be read — never "not found", so recovery does not end early
     */
    public FetchResult fetch(long systemId, String fileName, Path destination) {
        WalNames.Kind kind = WalNames.kind(fileName);
        if (kind == null || kind == WalNames.Kind.STREAM_PARTIAL) {
            throw new ConfigurationException("'" + fileName + "' is not a WAL file name PostgreSQL asks for");
        }
        String object = WalObjectNames.of(systemId, fileName);
        try {
            long n = writeAtomically(destination, out -> archive.read(object, out));
            return new FetchResult(fileName, FetchStatus.FOUND, n, n);
        } catch (ObjectNotFoundException e) {
            // fall through to partials
        }
        if (kind != WalNames.Kind.SEGMENT) {
            return new FetchResult(fileName, FetchStatus.NOT_FOUND, 0, 0);
        }
        Optional<StreamPartial> partial = newestStreamPartial(systemId, fileName);
        if (partial.isEmpty()) {
            return new FetchResult(fileName, FetchStatus.NOT_FOUND, 0, 0);
        }
        long segmentSize = cluster(systemId).map(Cluster::segmentSize).orElseThrow(() -> new IntegrityException(
                "wal/" + WalObjectNames.cluster(systemId), "cluster record is missing but partial segments exist"));
        StreamPartial p = partial.get();
        long written = writeAtomically(destination, out -> {
            long n = archive.read(p.object(), out);
            if (n != p.validBytes() || n > segmentSize) {
                throw new IntegrityException("wal/" + p.object(), "partial segment holds " + n + " bytes, its name says " + p.validBytes());
            }
            byte[] zeros = new byte[64 * 1024];
            for (long left = segmentSize - n; left > 0; left -= zeros.length) {
                out.write(zeros, 0, (int) Math.min(zeros.length, left));
            }
            return segmentSize;
        });
        return new FetchResult(fileName, FetchStatus.FOUND_PARTIAL, written, p.validBytes());
    }

    /** A streaming partial of one segment. */
    record StreamPartial(String object, String segment, long validBytes) {
    }

    Optional<StreamPartial> newestStreamPartial(long systemId, String segment) {
        String prefix = WalObjectNames.of(systemId, segment) + ".partial.";
        StreamPartial best = null;
        for (LogObject o : archive.list(prefix)) {
            Matcher m = WalNames.STREAM_PARTIAL.matcher(o.name().substring(o.name().lastIndexOf('/') + 1));
            if (m.matches()) {
                long valid = Long.parseLong(m.group(2), 16);
                if (best == null || valid > best.validBytes()) {
                    best = new StreamPartial(o.name(), segment, valid);
                }
            }
        }
        return Optional.ofNullable(best);
    }

    @FunctionalInterface
    interface Writer {
        long write(OutputStream out) throws IOException;
    }

    static long writeAtomically(Path destination, Writer writer) {
        Path dir = destination.toAbsolutePath().getParent();
        Path tmp = dir.resolve("." + destination.getFileName() + ".backupkit-" + UUID.randomUUID() + ".tmp");
        try {
            long n;
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                 OutputStream out = new java.io.BufferedOutputStream(java.nio.channels.Channels.newOutputStream(ch), 1 << 16)) {
                n = writer.write(out);
                out.flush();
                ch.force(false);
            }
            Files.move(tmp, destination, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return n;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + destination, e);
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // best effort
            }
        }
    }

    // ---- listing -------------------------------------------------------------------------------

    /**
     * One archived WAL object as listed (nothing downloaded).
     *
     * @param fileName   the WAL file name (a streaming partial: {@code <segment>.partial.<hex length>})
     * @param kind       segment, history, backup label, promotion partial or streaming partial
     * @param timeline   the timeline in the name
     * @param storedSize bytes in the repository
     * @param archived   when the storage says it was written
     */
    public record WalFile(String fileName, Kind kind, int timeline, long storedSize, Instant archived) {
        /** Kinds of archived WAL files. */
        public enum Kind { SEGMENT, HISTORY, BACKUP_LABEL, PROMOTION_PARTIAL, STREAM_PARTIAL }
    }

    /** Every WAL object of cluster {@code systemId}, sorted by name. */
    public List<WalFile> files(long systemId) {
        List<WalFile> out = new ArrayList<>();
        for (LogObject o : archive.list(WalObjectNames.clusterPrefix(systemId))) {
            String name = o.name().substring(o.name().lastIndexOf('/') + 1);
            WalNames.Kind k = WalNames.kind(name);
            if (k != null) {
                out.add(new WalFile(name, WalFile.Kind.valueOf(k.name()), WalNames.timeline(name), o.storedSize(), o.modified()));
            }
        }
        return out;
    }

    /** The WAL objects of one timeline (not its history file), sorted by name. */
    public List<WalFile> files(long systemId, int timeline) {
        List<WalFile> out = new ArrayList<>();
        for (LogObject o : archive.list(WalObjectNames.timelinePrefix(systemId, timeline))) {
            String name = o.name().substring(o.name().lastIndexOf('/') + 1);
            WalNames.Kind k = WalNames.kind(name);
            if (k != null) {
                out.add(new WalFile(name, WalFile.Kind.valueOf(k.name()), WalNames.timeline(name), o.storedSize(), o.modified()));
            }
        }
        return out;
    }

    /** The history of timeline {@code timeline} (empty for timeline 1, or when not archived). */
    public Optional<TimelineHistory> history(long systemId, int timeline) {
        try {
            byte[] content = archive.readAllBytes(WalObjectNames.of(systemId, WalNames.historyName(timeline)));
            return Optional.of(TimelineHistory.parse(timeline, content));
        } catch (ObjectNotFoundException e) {
            return Optional.empty();
        } catch (IllegalArgumentException e) {
            throw new IntegrityException("wal/" + WalObjectNames.of(systemId, WalNames.historyName(timeline)), e.getMessage());
        }
    }

    /** Every archived timeline history of the cluster, by timeline. */
    public Map<Integer, TimelineHistory> histories(long systemId) {
        Map<Integer, TimelineHistory> out = new TreeMap<>();
        for (LogObject o : archive.list(WalObjectNames.historyPrefix(systemId))) {
            String name = o.name().substring(o.name().lastIndexOf('/') + 1);
            if (WalNames.HISTORY.matcher(name).matches()) {
                int tli = WalNames.timeline(name);
                history(systemId, tli).ifPresent(h -> out.put(tli, h));
            }
        }
        return out;
    }

    // ---- continuity ----------------------------------------------------------------------------

    /**
     * Checks that every segment from {@code start} on {@code timeline} up to the newest archived
     * segment is present, on that timeline and on each timeline that branched from it at or after
     * {@code start} (following the archived history files). Missing segments are named.
     */
    public WalContinuity continuity(long systemId, int timeline, Lsn start) {
        long segmentSize = cluster(systemId).map(Cluster::segmentSize).orElse(0L);
        if (segmentSize == 0) {
            return new WalContinuity(systemId, timeline, start, List.of(new WalContinuity.TimelineRange(timeline, 0, start, start,
                    null, null, List.of(), true)));
        }
        Layout layout = layout(systemId, segmentSize);
        Map<Integer, TimelineHistory> histories = histories(systemId);
        List<WalContinuity.TimelineRange> ranges = new ArrayList<>();
        WalContinuity.TimelineRange own = range(layout, timeline, 0, start, true, segmentSize);
        ranges.add(own);
        Map<Integer, WalContinuity.TimelineRange> byTimeline = new HashMap<>();
        byTimeline.put(timeline, own);
        // descendants in timeline order: a child's parent is always a lower timeline
        for (TimelineHistory h : histories.values()) {
            if (h.timeline() == timeline || !h.descendsFrom(timeline)) {
                continue;
            }
            Lsn leftOurs = h.switchPointOf(timeline).orElseThrow();
            if (leftOurs.isBefore(start)) {
                continue; // branched off before the start: not reachable from it
            }
            int parent = h.parent();
            WalContinuity.TimelineRange parentRange = byTimeline.get(parent);
            boolean reachable = parentRange != null && parentRange.reachable()
                    && !parentRange.contiguousTo().isBefore(h.branchPoint());
            WalContinuity.TimelineRange r = range(layout, h.timeline(), parent, h.branchPoint(), reachable, segmentSize);
            ranges.add(r);
            byTimeline.put(h.timeline(), r);
        }
        return new WalContinuity(systemId, timeline, start, ranges);
    }

    /**
     * Continuity of every archived timeline from its first archived segment (no base backup given):
     * what {@code verify} of the whole archive reports.
     */
    public List<WalContinuity> continuity(long systemId) {
        long segmentSize = cluster(systemId).map(Cluster::segmentSize).orElse(0L);
        List<WalContinuity> out = new ArrayList<>();
        if (segmentSize == 0) {
            return out;
        }
        Layout layout = layout(systemId, segmentSize);
        for (Map.Entry<Integer, TreeMap<Long, Long>> e : layout.byTimeline.entrySet()) {
            Long first = e.getValue().firstKey();
            Lsn from = new Lsn(first * segmentSize);
            out.add(new WalContinuity(systemId, e.getKey(), from, List.of(range(layout, e.getKey(), 0, from, true, segmentSize))));
        }
        return out;
    }

    /** Per timeline: segment number → valid bytes (the segment size for full segments). */
    private record Layout(Map<Integer, TreeMap<Long, Long>> byTimeline) {
    }

    private Layout layout(long systemId, long segmentSize) {
        Map<Integer, TreeMap<Long, Long>> byTimeline = new TreeMap<>();
        for (WalFile f : files(systemId)) {
            if (f.kind() == WalFile.Kind.SEGMENT) {
                byTimeline.computeIfAbsent(f.timeline(), k -> new TreeMap<>()).put(WalNames.segmentNumber(f.fileName(), segmentSize), segmentSize);
            } else if (f.kind() == WalFile.Kind.STREAM_PARTIAL) {
                Matcher m = WalNames.STREAM_PARTIAL.matcher(f.fileName());
                if (m.matches()) {
                    long seg = WalNames.segmentNumber(m.group(1), segmentSize);
                    long valid = Long.parseLong(m.group(2), 16);
                    byTimeline.computeIfAbsent(f.timeline(), k -> new TreeMap<>()).merge(seg, valid, Math::max);
                }
            }
        }
        return new Layout(byTimeline);
    }

    private static WalContinuity.TimelineRange range(Layout layout, int timeline, int parent, Lsn from, boolean reachable, long segmentSize) {
        TreeMap<Long, Long> segs = layout.byTimeline().getOrDefault(timeline, new TreeMap<>());
        long first = from.segmentNumber(segmentSize);
        String firstName = WalNames.segmentName(timeline, first, segmentSize);
        if (segs.isEmpty() || segs.lastKey() < first) {
            return new WalContinuity.TimelineRange(timeline, parent, from, from, firstName, null, List.of(), reachable);
        }
        long last = segs.lastKey();
        List<WalContinuity.Gap> gaps = new ArrayList<>();
        Lsn contiguousTo = null;
        long gapStart = -1;
        for (long s = first; s <= last; s++) {
            Long valid = segs.get(s);
            boolean full = valid != null && valid == segmentSize;
            if (!full && contiguousTo == null) {
                contiguousTo = Lsn.max(from, new Lsn(s * segmentSize + (valid == null ? 0 : valid)));
            }
            if (valid == null) {
                if (gapStart < 0) {
                    gapStart = s;
                }
            } else if (gapStart >= 0) {
                gaps.add(gap(timeline, gapStart, s - 1, segmentSize));
                gapStart = -1;
            }
            if (valid != null && !full && s < last) {
                // a partial segment followed by later WAL: the bytes after its end are missing
                gaps.add(new WalContinuity.Gap(WalNames.segmentName(timeline, s, segmentSize) + " (from byte " + valid + ")",
                        WalNames.segmentName(timeline, s, segmentSize), 1));
            }
        }
        if (contiguousTo == null) {
            contiguousTo = new Lsn((last + 1) * segmentSize);
        }
        String lastName = WalNames.segmentName(timeline, last, segmentSize);
        return new WalContinuity.TimelineRange(timeline, parent, from, contiguousTo, firstName, lastName, gaps, reachable);
    }

    private static WalContinuity.Gap gap(int timeline, long first, long last, long segmentSize) {
        return new WalContinuity.Gap(WalNames.segmentName(timeline, first, segmentSize), WalNames.segmentName(timeline, last, segmentSize),
                last - first + 1);
    }

    // ---- retention -----------------------------------------------------------------------------

    /**
     * What {@link #expire} removed (or would remove, in a dry run).
     *
     * @param systemId    the cluster
     * @param keepFrom    WAL from the segment holding this position on is kept, on every timeline
     * @param files       names of the WAL files removed (or to remove)
     * @param bytesFreed  their stored size
     * @param dryRun      whether nothing was deleted
     */
    public record ExpireResult(long systemId, Lsn keepFrom, List<String> files, long bytesFreed, boolean dryRun) {
        public ExpireResult {
            files = List.copyOf(files);
        }
    }

    /**
     * Removes the WAL no retained base backup needs: every segment (and backup label, partial) that
     * ends before the segment holding {@code keepFrom}, on every timeline — WAL positions are
     * ordered across timelines, so this keeps everything recovery from a base backup starting at or
     * after {@code keepFrom} can read. History files are always kept. Pass the start LSN of the
     * oldest base backup that stays.
     */
    public ExpireResult expire(long systemId, Lsn keepFrom, boolean dryRun) {
        Cluster c = cluster(systemId).orElseThrow(() -> new ConfigurationException("repository " + location()
                + " archives no WAL of cluster " + Long.toUnsignedString(systemId)));
        long keepSegment = keepFrom.segmentNumber(c.segmentSize());
        List<String> names = new ArrayList<>();
        List<String> objects = new ArrayList<>();
        long bytes = 0;
        for (WalFile f : files(systemId)) {
            if (f.kind() == WalFile.Kind.HISTORY) {
                continue;
            }
            if (WalNames.segmentNumber(f.fileName().substring(0, 24), c.segmentSize()) < keepSegment) {
                names.add(f.fileName());
                objects.add(WalObjectNames.of(systemId, f.fileName()));
                bytes += f.storedSize();
            }
        }
        if (!dryRun && !objects.isEmpty()) {
            archive.delete(objects);
        }
        return new ExpireResult(systemId, keepFrom, names, bytes, dryRun);
    }

    /** Removes streaming partials of segments that are now archived whole; returns how many. */
    public int deleteSupersededPartials(long systemId) {
        TreeSet<String> full = new TreeSet<>();
        List<WalFile> partials = new ArrayList<>();
        for (WalFile f : files(systemId)) {
            if (f.kind() == WalFile.Kind.SEGMENT) {
                full.add(f.fileName());
            } else if (f.kind() == WalFile.Kind.STREAM_PARTIAL) {
                partials.add(f);
            }
        }
        List<String> remove = new ArrayList<>();
        for (WalFile p : partials) {
            if (full.contains(p.fileName().substring(0, 24))) {
                remove.add(WalObjectNames.of(systemId, p.fileName()));
            }
        }
        if (!remove.isEmpty()) {
            archive.delete(remove);
        }
        return remove.size();
    }

    @Override
    public String toString() {
        return "WalArchive[" + location() + "]";
    }

    /** Configures a {@link WalArchive}. */
    public static final class Builder {
        private Repository repository;
        private Long systemId;
        private Path dataDirectory;
        private boolean allowNewCluster;
        private CompressionCodec compression;

        private Builder() {
        }

        public Builder repository(Repository repository) {
            this.repository = repository;
            return this;
        }

        /** The cluster this archive is for: pushes of other clusters' WAL are refused; fetches read it. */
        public Builder systemId(long systemId) {
            this.systemId = systemId;
            return this;
        }

        /**
         * The archiving (or restored) server's data directory: its {@code global/pg_control} names the
         * cluster when readable ({@code archive_command} and {@code restore_command} run there).
         */
        public Builder dataDirectory(Path dataDirectory) {
            this.dataDirectory = dataDirectory;
            return this;
        }

        /** Lets a push record a cluster the repository has not archived before when it archives another one already. */
        public Builder allowNewCluster(boolean allow) {
            this.allowNewCluster = allow;
            return this;
        }

        /** Codec for WAL objects; default the repository's. */
        public Builder compression(CompressionCodec codec) {
            this.compression = codec;
            return this;
        }

        public WalArchive build() {
            return new WalArchive(this);
        }
    }
}
