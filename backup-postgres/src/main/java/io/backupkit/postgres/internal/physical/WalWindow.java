package io.backupkit.postgres.internal.physical;

import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;
import io.backupkit.postgres.Lsn;
import io.backupkit.postgres.TimelineHistory;
import io.backupkit.postgres.WalArchive;
import io.backupkit.postgres.internal.wal.WalNames;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.stream.Collectors;

/**
 * The WAL a base backup can replay towards a target timeline: the timelines it follows from the
 * backup's timeline, each segment in replay order (archived, or inside the snapshot itself), where
 * gap-free WAL ends, and the first missing segment if WAL exists beyond it. Refuses a target timeline
 * that forked off before the backup was consistent, or does not descend from the backup's timeline.
 */
public final class WalWindow {

    /** A stretch of WAL on one timeline: [begin, end), end null for the target timeline. */
    public record Span(int timeline, Lsn begin, Lsn end) {
    }

    /**
     * One segment recovery reads, in order.
     *
     * @param fileName   the name PostgreSQL asks restore_command for
     * @param included   inside the snapshot (pg_wal of the restored directory), so not needed from the archive
     * @param validBytes bytes of real WAL (less than the segment size for a streaming partial)
     */
    public record Step(String fileName, int timeline, long segment, boolean included, long validBytes) {
    }

    private final List<Span> path;
    private final List<Step> steps;
    private final Lsn contiguousTo;
    private final String firstGap;
    private final String beyondGap;

    private WalWindow(List<Span> path, List<Step> steps, Lsn contiguousTo, String firstGap, String beyondGap) {
        this.path = path;
        this.steps = steps;
        this.contiguousTo = contiguousTo;
        this.firstGap = firstGap;
        this.beyondGap = beyondGap;
    }

    /** The timelines from 1 to {@code target} with the WAL range each covers. */
    public static List<Span> path(int target, Map<Integer, TimelineHistory> histories) {
        TimelineHistory h = histories.get(target);
        if (h == null || h.entries().isEmpty()) {
            if (target != 1 && h == null) {
                throw new ConfigurationException("timeline " + target + " has no history file in the WAL archive");
            }
            return List.of(new Span(target, Lsn.INVALID, null));
        }
        List<Span> spans = new ArrayList<>();
        Lsn begin = Lsn.INVALID;
        for (TimelineHistory.Entry e : h.entries()) {
            spans.add(new Span(e.timeline(), begin, e.switchPoint()));
            begin = e.switchPoint();
        }
        spans.add(new Span(target, begin, null));
        return spans;
    }

    /**
     * The part of {@link #path} from the base backup's timeline on; a clear refusal when the target
     * timeline forked from it before the backup was consistent, or does not descend from it.
     */
    public static List<Span> pathFrom(PhysicalMetadata base, String backup, int target, Map<Integer, TimelineHistory> histories) {
        List<Span> all = path(target, histories);
        for (int i = 0; i < all.size(); i++) {
            Span s = all.get(i);
            if (s.timeline() == base.timeline()) {
                if (s.end() != null && s.end().isBefore(base.stopLsn())) {
                    throw new ConfigurationException("timeline " + target + " forked from timeline " + base.timeline() + " at " + s.end()
                            + ", before base backup " + backup + " was consistent (" + base.stopLsn() + " on timeline " + base.timeline()
                            + "): its WAL cannot be replayed onto that backup. Use a base backup that ended before " + s.end()
                            + ", or recover along timeline " + base.timeline() + " (--timeline " + base.timeline() + ")");
                }
                return List.copyOf(all.subList(i, all.size()));
            }
        }
        throw new ConfigurationException("timeline " + target + " does not descend from timeline " + base.timeline() + " of base backup "
                + backup + " (timeline " + target + " comes from " + all.stream().map(x -> Integer.toString(x.timeline()))
                .collect(Collectors.joining(" → ")) + "); use a base backup taken on one of those timelines");
    }

    /** Follows {@code path} through the archived segments of cluster {@code systemId}. */
    public static WalWindow compute(WalArchive wal, long systemId, PhysicalMetadata base, List<Span> path) {
        long seg = base.walSegmentSize();
        Map<Integer, TreeMap<Long, Long>> present = new HashMap<>();
        for (WalArchive.WalFile f : wal.files(systemId)) {
            if (f.kind() == WalArchive.WalFile.Kind.SEGMENT) {
                present.computeIfAbsent(f.timeline(), k -> new TreeMap<>()).put(WalNames.segmentNumber(f.fileName(), seg), seg);
            } else if (f.kind() == WalArchive.WalFile.Kind.STREAM_PARTIAL) {
                Matcher m = WalNames.STREAM_PARTIAL.matcher(f.fileName());
                if (m.matches()) {
                    present.computeIfAbsent(f.timeline(), k -> new TreeMap<>())
                            .merge(WalNames.segmentNumber(m.group(1), seg), Long.parseLong(m.group(2), 16), Math::max);
                }
            }
        }
        long includedFirst = base.walIncluded() ? base.startLsn().segmentNumber(seg) : -1;
        long includedLast = base.walIncluded() ? PhysicalMetadata.lastSegment(base.stopLsn(), seg) : -2;
        List<Step> steps = new ArrayList<>();
        Lsn end = base.startLsn();
        String gap = null;
        String beyond = null;
        outer:
        for (int i = 0; i < path.size(); i++) {
            Span span = path.get(i);
            boolean last = i == path.size() - 1;
            TreeMap<Long, Long> segs = present.getOrDefault(span.timeline(), new TreeMap<>());
            long first = (i == 0 ? base.startLsn() : span.begin()).segmentNumber(seg);
            long lastNeeded;
            if (!last) {
                lastNeeded = span.end().segmentNumber(seg) - 1;
            } else {
                long newest = segs.isEmpty() ? first - 1 : segs.lastKey();
                if (span.timeline() == base.timeline()) {
                    newest = Math.max(newest, includedLast);
                }
                lastNeeded = newest;
            }
            for (long s = first; s <= lastNeeded; s++) {
                boolean included = span.timeline() == base.timeline() && s >= includedFirst && s <= includedLast;
                Long valid = segs.get(s);
                String name = WalNames.segmentName(span.timeline(), s, seg);
                if (valid == null && !included) {
                    gap = name;
                    end = Lsn.max(end, new Lsn(s * seg));
                    beyond = laterWal(path, i, s, present, seg);
                    break outer;
                }
                long v = included ? seg : valid;
                steps.add(new Step(name, span.timeline(), s, included, v));
                end = new Lsn(s * seg + v);
                if (v < seg) {
                    // a streaming partial: WAL ends inside it; anything later is behind a gap
                    if (s < lastNeeded || !last) {
                        gap = name + " (from byte " + v + ")";
                        beyond = laterWal(path, i, s, present, seg);
                    }
                    break outer;
                }
            }
            if (!last) {
                end = span.end();
            }
        }
        return new WalWindow(path, List.copyOf(steps), end, gap, beyond);
    }

    /** The first archived segment after {@code s} on the path, or null. */
    private static String laterWal(List<Span> path, int from, long s, Map<Integer, TreeMap<Long, Long>> present, long seg) {
        for (int i = from; i < path.size(); i++) {
            TreeMap<Long, Long> segs = present.getOrDefault(path.get(i).timeline(), new TreeMap<>());
            Long next = segs.higherKey(i == from ? s : path.get(i).begin().segmentNumber(seg) - 1);
            if (next != null) {
                return WalNames.segmentName(path.get(i).timeline(), next, seg);
            }
        }
        return null;
    }

    /** How many segments back from the newest the window's end in time is looked for. */
    private static final int LAST_COMMIT_LOOKBACK = 8;

    /**
     * The time of the last commit (or abort) in the archived WAL of this window after the backup's end:
     * the last moment a time target can name. Reads the newest archived segments (at most
     * {@value #LAST_COMMIT_LOOKBACK}); null when none of them holds one.
     */
    public Instant lastCommit(WalArchive wal, long systemId, PhysicalMetadata meta) {
        int looked = 0;
        for (int i = steps.size() - 1; i >= 0 && looked < LAST_COMMIT_LOOKBACK; i--) {
            Step s = steps.get(i);
            if (s.included()) {
                break;
            }
            looked++;
            WalScanner.Summary sum = scan(wal, systemId, s, meta.walSegmentSize());
            if (sum.lastCommitTime() != null && !sum.lastCommitEnd().isBefore(meta.stopLsn())) {
                return sum.lastCommitTime();
            }
        }
        return null;
    }

    private static WalScanner.Summary scan(WalArchive wal, long systemId, Step s, long segSize) {
        try {
            Path tmp = Files.createTempFile("backupkit-wal-", ".seg");
            try {
                wal.fetch(systemId, s.fileName(), tmp);
                return WalScanner.scan(Files.readAllBytes(tmp), new Lsn(s.segment() * segSize));
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new EngineException("cannot read WAL segment " + s.fileName() + ": " + e.getMessage(), e);
        }
    }

    public List<Span> path() {
        return path;
    }

    public List<Step> steps() {
        return steps;
    }

    /** Recovery can replay gap-free WAL up to here (exclusive). */
    public Lsn contiguousTo() {
        return contiguousTo;
    }

    /** The timeline the gap-free WAL ends on. */
    public int endTimeline() {
        Span last = path.get(path.size() - 1);
        for (Span s : path) {
            if (s.end() == null || contiguousTo.isBefore(s.end())) {
                return s.timeline();
            }
        }
        return last.timeline();
    }

    /** The first missing segment when WAL exists beyond it (a real gap), else null. */
    public String gap() {
        return beyondGap == null ? null : firstGap;
    }

    /** The first archived segment after the gap, for messages. */
    public String afterGap() {
        return beyondGap;
    }

    /** "1 → 2" */
    public String describePath() {
        return path.stream().map(s -> Integer.toString(s.timeline())).collect(Collectors.joining(" → "));
    }
}
