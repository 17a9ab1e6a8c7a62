package io.backupkit.mysql;

import io.backupkit.ConfigurationException;
import io.backupkit.LogArchive;
import io.backupkit.LogObject;
import io.backupkit.Repository;
import io.backupkit.Snapshot;
import io.backupkit.spi.LogRetention;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Binary log retention: for every source in the {@code binlog} namespace (see {@link BinlogArchive}),
 * removes the files (complete files and pieces) before the file of the oldest retained MySQL/MariaDB
 * snapshot's recorded coordinates ({@code binlog.file}); that file and every later one stay, since a
 * point-in-time restore starts from a retained snapshot and replays from its position on.
 *
 * <p>Conservative where it cannot know:
 * <ul>
 *   <li>a source with no retained snapshot that recorded coordinates keeps every file (snapshots name
 *       their source by {@code serverUuid}, else {@code server-<serverId>}; a receiver started with a
 *       custom {@code source} name is matched by no snapshot and so keeps everything);</li>
 *   <li>files of another base name than the snapshot's file (the server's {@code log_bin_basename}
 *       changed) are kept: their sequence numbers are not comparable;</li>
 *   <li>the newest archived file of a source is always kept, because a restarted
 *       {@link BinlogReceiver} resumes after it.</li>
 * </ul>
 * Registered for {@link java.util.ServiceLoader}; the core's retention ({@code forget}) calls it with
 * the snapshots that stay.
 *
 * <pre>{@code
 * LogRetention.Result r = new MySqlBinlogRetention().apply(repository, repository.snapshots().list(), true);
 * r.objects().forEach(System.out::println);   // what would be removed
 * }</pre>
 */
public final class MySqlBinlogRetention implements LogRetention {
    private static final Pattern PIECE = Pattern.compile("^(.+)\\.part\\.[0-9a-f]{16}-[0-9a-f]{16}$");

    @Override
    public String engine() {
        return MySqlEngine.NAME;
    }

    @Override
    public Result apply(Repository repository, List<Snapshot> retained, boolean dryRun) {
        Map<String, BinlogPosition> keepFrom = new TreeMap<>();
        Map<String, String> keptBy = new LinkedHashMap<>();
        for (Snapshot s : retained) {
            if (!MySqlEngine.NAME.equals(s.engine())) {
                continue;
            }
            BinlogPosition p = coordinates(s);
            String source = sourceOf(s);
            if (p == null || source == null) {
                continue;
            }
            BinlogPosition known = keepFrom.get(source);
            if (known == null || p.compareTo(known) < 0) {
                keepFrom.put(source, p);
                keptBy.put(source, s.shortId());
            }
        }
        LogArchive archive = LogArchive.open(repository, BinlogArchive.NAMESPACE);
        Map<String, List<LogObject>> bySource = new TreeMap<>();
        for (LogObject o : archive.list("")) {
            int slash = o.name().indexOf('/');
            if (slash > 0) {
                bySource.computeIfAbsent(o.name().substring(0, slash), k -> new ArrayList<>()).add(o);
            }
        }
        List<String> doomed = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        long bytes = 0;
        for (Map.Entry<String, List<LogObject>> e : bySource.entrySet()) {
            String source = e.getKey();
            BinlogPosition from = keepFrom.get(source);
            if (from == null) {
                notes.add("binlog source " + source + ": no retained snapshot with binary log coordinates refers to it; all its "
                        + "binary logs are kept");
                continue;
            }
            // the newest file of the source, whatever its base name: the receiver resumes after it
            TreeSet<String> files = new TreeSet<>((a, b) -> {
                int c = Long.compare(BinlogPosition.sequenceOf(a), BinlogPosition.sequenceOf(b));
                return c != 0 ? c : a.compareTo(b);
            });
            for (LogObject o : e.getValue()) {
                String file = fileOf(o.name().substring(source.length() + 1));
                if (file != null) {
                    files.add(file);
                }
            }
            String newest = files.isEmpty() ? null : files.last();
            int removedFiles = 0;
            int otherBase = 0;
            TreeSet<String> removedNames = new TreeSet<>();
            for (LogObject o : e.getValue()) {
                String file = fileOf(o.name().substring(source.length() + 1));
                if (file == null || file.equals(newest)) {
                    continue;
                }
                if (!sameBase(file, from.file())) {
                    otherBase++;
                    continue;
                }
                if (BinlogPosition.sequenceOf(file) < from.sequence()) {
                    doomed.add(o.name());
                    bytes += o.storedSize();
                    if (removedNames.add(file)) {
                        removedFiles++;
                    }
                }
            }
            notes.add("binlog source " + source + ": kept from " + from.file() + " (position of the oldest retained snapshot "
                    + keptBy.get(source) + ", " + from + "); " + removedFiles + " older file(s) " + (dryRun ? "would be " : "") + "removed"
                    + (otherBase > 0 ? "; " + otherBase + " object(s) of another binary log base name kept" : ""));
        }
        if (!dryRun && !doomed.isEmpty()) {
            archive.delete(doomed);
        }
        List<String> storageNames = doomed.stream().map(n -> BinlogArchive.NAMESPACE + "/" + n).toList();
        return new Result(storageNames, bytes, notes);
    }

    /** The binary log position a MySQL snapshot recorded ({@code binlog.file}/{@code binlog.position}), or null. */
    static BinlogPosition coordinates(Snapshot s) {
        try {
            Object b = s.metadata().get("binlog");
            if (b instanceof Map<?, ?> m && m.get("file") != null && m.get("position") instanceof Number n) {
                return new BinlogPosition(m.get("file").toString(), n.longValue());
            }
            Object p = s.metadata().get("binlogPosition");
            return p == null ? null : BinlogPosition.parse(p.toString());
        } catch (ConfigurationException e) {
            return null; // unreadable coordinates protect nothing; the files stay for the other snapshots' sake
        }
    }

    private static String sourceOf(Snapshot s) {
        Object id = s.metadata().get("serverId");
        Object uuid = s.metadata().get("serverUuid");
        try {
            return BinlogArchive.defaultSourceName(id == null ? null : id.toString(), uuid == null ? null : uuid.toString());
        } catch (ConfigurationException e) {
            return null;
        }
    }

    /** The binary log file an object holds ({@code binlog.000042} for the file and its pieces), or null for anything else. */
    private static String fileOf(String name) {
        var m = PIECE.matcher(name);
        String file = m.matches() ? m.group(1) : name;
        return file.indexOf('/') < 0 && BinlogPosition.sequenceOf(file) >= 0 ? file : null;
    }

    private static boolean sameBase(String file, String reference) {
        return new BinlogPosition(file, 4).baseName().equals(new BinlogPosition(reference, 4).baseName());
    }
}
