package io.backupkit.mysql;

import io.backupkit.ConfigurationException;
import io.backupkit.LogArchive;
import io.backupkit.LogObject;
import io.backupkit.LogObjectInfo;
import io.backupkit.LogPutResult;
import io.backupkit.Repository;
import io.backupkit.mysql.internal.BinlogEvents;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The binary logs of MySQL/MariaDB servers in a repository, for point-in-time recovery: write-once
 * sealed objects in the {@code binlog} namespace of the repository's {@link LogArchive}, one
 * directory per server ("source"), the server's own file names inside:
 * <pre>
 * binlog/&lt;source&gt;/binlog.000042                                a complete file
 * binlog/&lt;source&gt;/binlog.000043.part.&lt;16 hex&gt;-&lt;16 hex&gt;     bytes [from, to) of the file the server is writing
 * </pre>
 * Each piece holds only what the previous pieces lack, so archiving a file the server writes for
 * an hour costs its size once (plus the whole file once it is finished), whatever the interval.
 * The source is {@code server-<server_id>} for MariaDB and the {@code server_uuid} for MySQL unless
 * set explicitly; a backup records both, so a restore finds the binary logs that follow it.
 *
 * <pre>{@code
 * BinlogArchive archive = BinlogArchive.of(repository);
 * for (BinlogFile f : archive.files("server-1")) System.out.println(f.name() + " " + f.lastEventTime());
 * }</pre>
 */
public final class BinlogArchive {
    /** The LogArchive namespace. */
    public static final String NAMESPACE = "binlog";
    private static final Pattern SOURCE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,99}");
    private static final Pattern PIECE = Pattern.compile("^(.+)\\.part\\.([0-9a-f]{16})-([0-9a-f]{16})$");

    private final LogArchive archive;

    private BinlogArchive(LogArchive archive) {
        this.archive = archive;
    }

    public static BinlogArchive of(Repository repository) {
        return new BinlogArchive(LogArchive.open(repository, NAMESPACE));
    }

    /** The source name a server gets by default: its {@code server_uuid} (MySQL), else {@code server-<server_id>}. */
    public static String defaultSourceName(String serverId, String serverUuid) {
        if (serverUuid != null && !serverUuid.isBlank()) {
            return serverUuid.strip();
        }
        if (serverId == null || serverId.isBlank()) {
            throw new ConfigurationException("the server reports no server_id; give the binlog source a name");
        }
        return "server-" + serverId.strip();
    }

    static String checkSource(String source) {
        if (source == null || !SOURCE.matcher(source).matches()) {
            throw new ConfigurationException("binlog source name '" + source + "' is not valid: use letters, digits, '.', '-' and '_' "
                    + "(at most 100, starting with a letter or digit)");
        }
        return source;
    }

    /** Where the repository is (no credentials). */
    public String location() {
        return archive.location();
    }

    /** The sources that have binary logs here, sorted. */
    public List<String> sources() {
        TreeSet<String> out = new TreeSet<>();
        for (LogObject o : archive.list("")) {
            int slash = o.name().indexOf('/');
            if (slash > 0) {
                out.add(o.name().substring(0, slash));
            }
        }
        return List.copyOf(out);
    }

    /**
     * The files of {@code source} by sequence number: each complete file, and for a file archived
     * only in pieces the longest run of pieces that follow each other from its start. Reads the
     * sealed header of each file's first and last object (a small request each).
     */
    public List<BinlogFile> files(String source) {
        checkSource(source);
        Map<String, String> complete = new HashMap<>();
        Map<String, TreeMap<Long, long[]>> pieces = new HashMap<>();
        for (LogObject o : archive.list(source + "/")) {
            String name = o.name().substring(source.length() + 1);
            var m = PIECE.matcher(name);
            if (m.matches()) {
                long from = Long.parseLong(m.group(2), 16);
                long to = Long.parseLong(m.group(3), 16);
                TreeMap<Long, long[]> byStart = pieces.computeIfAbsent(m.group(1), k -> new TreeMap<>());
                long[] known = byStart.get(from);
                if (known == null || to > known[0]) {
                    byStart.put(from, new long[] {to});
                }
            } else if (BinlogPosition.sequenceOf(name) >= 0) {
                complete.put(name, o.name());
            }
        }
        TreeMap<Long, BinlogFile> bySequence = new TreeMap<>();
        for (Map.Entry<String, String> e : complete.entrySet()) {
            LogObjectInfo info = info(e.getValue());
            bySequence.put(BinlogPosition.sequenceOf(e.getKey()), new BinlogFile(e.getKey(), true, info.length(),
                    instant(info.attributes().get("firstEventTime")), instant(info.attributes().get("lastEventTime")), List.of(e.getValue()),
                    info.created()));
        }
        for (Map.Entry<String, TreeMap<Long, long[]>> e : pieces.entrySet()) {
            if (complete.containsKey(e.getKey())) {
                continue;
            }
            List<String> chain = new ArrayList<>();
            long end = 0;
            long[] next;
            while ((next = e.getValue().get(end)) != null) {
                chain.add(pieceName(source, e.getKey(), end, next[0]));
                end = next[0];
            }
            if (chain.isEmpty()) {
                continue;
            }
            LogObjectInfo first = info(chain.get(0));
            LogObjectInfo last = chain.size() == 1 ? first : info(chain.get(chain.size() - 1));
            bySequence.put(BinlogPosition.sequenceOf(e.getKey()), new BinlogFile(e.getKey(), false, end,
                    instant(first.attributes().get("firstEventTime")), instant(last.attributes().get("lastEventTime")), chain, last.created()));
        }
        return List.copyOf(bySequence.values());
    }

    private LogObjectInfo info(String objectName) {
        return archive.info(objectName).orElseThrow(() -> new io.backupkit.ObjectNotFoundException(NAMESPACE + "/" + objectName,
                "binary log " + objectName + " disappeared from the archive while it was listed"));
    }

    private static String pieceName(String source, String file, long from, long to) {
        return source + "/" + file + ".part." + String.format("%016x-%016x", from, to);
    }

    /** How many bytes of {@code fileName} from its start the archive holds (its length when complete, 0 when none). */
    public long archivedLength(String source, String fileName) {
        return files(source).stream().filter(f -> f.name().equals(fileName)).mapToLong(BinlogFile::length).findFirst().orElse(0);
    }

    private static Instant instant(String s) {
        return s == null || s.isEmpty() ? null : Instant.parse(s);
    }

    /** Stores a finished binary log file whole. */
    public LogPutResult putComplete(String source, Path file) {
        return put(source, file, -1).orElseThrow();
    }

    /**
     * Stores the complete events of {@code file} from byte {@code from} on as the next piece of a
     * file the server is still writing. Returns what was stored, or empty when there is nothing new.
     */
    public Optional<LogPutResult> putPiece(String source, Path file, long from) {
        if (from < 0) {
            throw new IllegalArgumentException("from must not be negative");
        }
        return put(source, file, from);
    }

    private Optional<LogPutResult> put(String source, Path file, long pieceFrom) {
        checkSource(source);
        String name = file.getFileName().toString();
        if (BinlogPosition.sequenceOf(name) < 0) {
            throw new ConfigurationException("not a binary log file name: " + name);
        }
        try {
            BinlogEvents.Summary s = BinlogEvents.read(file);
            Map<String, String> attributes = new LinkedHashMap<>();
            if (s.firstTime() != null) {
                attributes.put("firstEventTime", s.firstTime().toString());
                attributes.put("lastEventTime", s.lastTime().toString());
            }
            if (s.serverId() >= 0) {
                attributes.put("serverId", Long.toString(s.serverId()));
            }
            if (s.nextFile() != null) {
                attributes.put("nextFile", s.nextFile());
            }
            if (pieceFrom < 0) {
                return Optional.of(archive.put(source + "/" + name, file, attributes));
            }
            // only complete events: the server may be in the middle of writing the next one
            long to = s.validLength();
            if (to <= pieceFrom) {
                return Optional.empty();
            }
            byte[] content;
            try (var in = Files.newInputStream(file)) {
                in.skipNBytes(pieceFrom);
                content = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, to - pieceFrom));
            }
            String objectName = pieceName(source, name, pieceFrom, pieceFrom + content.length);
            if (archive.exists(objectName)) {
                return Optional.empty();
            }
            return Optional.of(archive.put(objectName, content, attributes));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read binary log " + file, e);
        }
    }

    /** Removes the pieces of {@code fileName} (once the complete file is archived). Returns how many. */
    public int deletePieces(String source, String fileName) {
        List<String> names = new ArrayList<>();
        for (LogObject o : archive.list(checkSource(source) + "/" + fileName + ".part.")) {
            names.add(o.name());
        }
        return names.isEmpty() ? 0 : archive.delete(names);
    }

    /** Writes the archived bytes of {@code file} to {@code dest} (through a temporary file, then renamed). */
    public void fetch(BinlogFile file, Path dest) {
        Path tmp = dest.resolveSibling(dest.getFileName() + ".tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            for (String object : file.objectNames()) {
                archive.read(object, out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + tmp, e);
        }
        try {
            Files.move(tmp, dest, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot rename " + tmp + " to " + dest, e);
        }
    }

    /**
     * The archived files from {@code start}'s file on, without a hole: every sequence number from
     * the start to the last file must be there.
     *
     * @param files     the contiguous files in order (the last may be partial)
     * @param missing   names of files missing between the start and later archived files (a gap), empty if none
     * @param lastEvent the time of the last archived event in {@code files}, or null
     */
    public record Coverage(List<BinlogFile> files, List<String> missing, Instant lastEvent) {
        public boolean hasGap() {
            return !missing.isEmpty();
        }
    }

    /** See {@link Coverage}. */
    public Coverage coverage(String source, BinlogPosition start) {
        List<BinlogFile> all = files(source);
        List<BinlogFile> run = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        long want = start.sequence();
        Instant last = null;
        for (BinlogFile f : all) {
            if (f.sequence() < want) {
                continue;
            }
            if (f.sequence() > want) {
                for (long s = want; s < f.sequence(); s++) {
                    missing.add(BinlogPosition.fileWithSequence(start.file(), s));
                }
                break;
            }
            run.add(f);
            if (f.lastEventTime() != null) {
                last = f.lastEventTime();
            }
            want++;
            if (!f.complete()) {
                break;
            }
        }
        if (run.isEmpty() && missing.isEmpty()) {
            missing.add(start.file());
        }
        return new Coverage(List.copyOf(run), List.copyOf(missing), last);
    }
}
