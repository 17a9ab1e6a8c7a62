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
 * binlog/&lt;source&gt;/binlog.000042                      a complete file
 * binlog/&lt;source&gt;/binlog.000043.partial.&lt;16 hex&gt;      the file the server was writing, up to that many bytes
 * </pre>
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
    private static final Pattern PARTIAL = Pattern.compile("^(.+)\\.partial\\.([0-9a-f]{16})$");

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
     * only partially its longest partial copy. Reads each object's sealed header (a small request each).
     */
    public List<BinlogFile> files(String source) {
        checkSource(source);
        Map<String, LogObject> complete = new HashMap<>();
        Map<String, String> bestPartial = new HashMap<>();
        Map<String, Long> bestLength = new HashMap<>();
        for (LogObject o : archive.list(source + "/")) {
            String name = o.name().substring(source.length() + 1);
            var m = PARTIAL.matcher(name);
            if (m.matches()) {
                long len = Long.parseLong(m.group(2), 16);
                if (len > bestLength.getOrDefault(m.group(1), -1L)) {
                    bestLength.put(m.group(1), len);
                    bestPartial.put(m.group(1), o.name());
                }
            } else if (BinlogPosition.sequenceOf(name) >= 0) {
                complete.put(name, o);
            }
        }
        TreeMap<Long, BinlogFile> bySequence = new TreeMap<>();
        for (String name : complete.keySet()) {
            bySequence.put(BinlogPosition.sequenceOf(name), describe(name, true, source + "/" + name));
        }
        for (Map.Entry<String, String> e : bestPartial.entrySet()) {
            if (!complete.containsKey(e.getKey())) {
                bySequence.put(BinlogPosition.sequenceOf(e.getKey()), describe(e.getKey(), false, e.getValue()));
            }
        }
        return List.copyOf(bySequence.values());
    }

    private BinlogFile describe(String name, boolean complete, String objectName) {
        LogObjectInfo info = archive.info(objectName).orElseThrow(() -> new io.backupkit.ObjectNotFoundException(
                NAMESPACE + "/" + objectName, "binary log " + objectName + " disappeared from the archive while it was listed"));
        Map<String, String> a = info.attributes();
        return new BinlogFile(name, complete, info.length(), instant(a.get("firstEventTime")), instant(a.get("lastEventTime")), objectName,
                info.created());
    }

    private static Instant instant(String s) {
        return s == null || s.isEmpty() ? null : Instant.parse(s);
    }

    /**
     * Stores a binary log file: complete ({@code complete}) or as a partial copy of its complete
     * events. Returns what was stored, or empty when a partial copy holds no complete event yet.
     */
    public Optional<LogPutResult> put(String source, Path file, boolean complete) {
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
            if (complete) {
                return Optional.of(archive.put(source + "/" + name, file, attributes));
            }
            if (s.events() == 0) {
                return Optional.empty();
            }
            // only the complete events: the server may be in the middle of writing the next one
            byte[] content;
            try (var in = Files.newInputStream(file)) {
                content = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, s.validLength()));
            }
            String objectName = source + "/" + name + ".partial." + String.format("%016x", (long) content.length);
            if (archive.exists(objectName)) {
                return Optional.empty();
            }
            return Optional.of(archive.put(objectName, content, attributes));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read binary log " + file, e);
        }
    }

    /** Removes the partial copies of {@code fileName} (once the complete file is archived). Returns how many. */
    public int deletePartials(String source, String fileName) {
        return deletePartials(source, fileName, -1);
    }

    /** Removes the partial copies of {@code fileName} except the one of {@code keepLength} bytes. Returns how many. */
    public int deletePartials(String source, String fileName, long keepLength) {
        String keep = keepLength < 0 ? null : String.format("%016x", keepLength);
        List<String> names = new ArrayList<>();
        for (LogObject o : archive.list(checkSource(source) + "/" + fileName + ".partial.")) {
            if (keep == null || !o.name().endsWith(keep)) {
                names.add(o.name());
            }
        }
        return names.isEmpty() ? 0 : archive.delete(names);
    }

    /** Writes the archived bytes of {@code file} to {@code dest} (through a temporary file, then renamed). */
    public void fetch(BinlogFile file, Path dest) {
        Path tmp = dest.resolveSibling(dest.getFileName() + ".tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            archive.read(file.objectName(), out);
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
