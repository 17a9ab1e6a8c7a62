package io.backupkit.postgres;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Whether the WAL archive of one cluster holds every segment needed to recover from a start
 * position (a base backup's start) on one timeline up to the newest archived WAL, on that timeline
 * and on every timeline that branched from it after the start. Built by
 * {@link WalArchive#continuity(long, int, Lsn)}; a report, never an exception.
 *
 * <pre>{@code
 * WalContinuity c = wal.continuity(systemId, 1, Lsn.parse("0/2000028"));
 * if (c.hasGaps()) System.err.println(c.describe());     // names each missing segment range
 * }</pre>
 *
 * @param systemId  the cluster
 * @param timeline  the timeline of the start
 * @param start     the start position (e.g. a base backup's start LSN)
 * @param timelines one range per timeline reachable from the start, the start's timeline first
 */
public record WalContinuity(long systemId, int timeline, Lsn start, List<TimelineRange> timelines) {

    public WalContinuity {
        timelines = List.copyOf(timelines);
    }

    /**
     * The archived WAL of one timeline.
     *
     * @param timeline      the timeline
     * @param parent        the timeline it branched from (0 for none or unknown)
     * @param from          where recovery on this timeline starts: the start position, or the branch point
     * @param contiguousTo  recovery can replay without a gap from {@code from} up to here (exclusive);
     *                      equal to {@code from} when the first segment is missing
     * @param firstSegment  the segment holding {@code from}
     * @param lastSegment   the newest segment archived on this timeline (full or partial), or null if none
     * @param gaps          missing segments between {@code firstSegment} and {@code lastSegment}
     * @param reachable     false when the parent's WAL has a gap before the branch point, so this
     *                      timeline cannot be reached from the start
     */
    public record TimelineRange(int timeline, int parent, Lsn from, Lsn contiguousTo, String firstSegment, String lastSegment,
                                List<Gap> gaps, boolean reachable) {
        public TimelineRange {
            gaps = List.copyOf(gaps);
        }

        /** Whether recovery can reach the newest archived WAL of this timeline from the start. */
        public boolean complete() {
            return reachable && gaps.isEmpty() && lastSegment != null;
        }
    }

    /**
     * A run of missing segments on one timeline, both ends included.
     *
     * @param firstMissing name of the first missing segment
     * @param lastMissing  name of the last missing segment
     * @param segments     how many segments are missing
     */
    public record Gap(String firstMissing, String lastMissing, long segments) {
        @Override
        public String toString() {
            return segments == 1 ? firstMissing : firstMissing + ".." + lastMissing + " (" + segments + " segments)";
        }
    }

    /** Whether any reachable timeline misses a segment (or a timeline is unreachable). */
    public boolean hasGaps() {
        return timelines.stream().anyMatch(t -> !t.gaps().isEmpty() || !t.reachable());
    }

    /** All gaps, as "timeline N: first..last" strings. */
    public List<String> gapNames() {
        return timelines.stream().flatMap(t -> t.gaps().stream().map(g -> "timeline " + t.timeline() + ": " + g)).toList();
    }

    /** One line per timeline: its recoverable range and its gaps. */
    public String describe() {
        return timelines.stream().map(t -> "timeline " + t.timeline() + (t.parent() > 0 ? " (from " + t.parent() + ")" : "")
                + ": " + t.from() + " .. " + t.contiguousTo()
                + (t.lastSegment() == null ? ", no WAL archived" : ", newest segment " + t.lastSegment())
                + (t.reachable() ? "" : ", unreachable (gap on the parent timeline before the branch point)")
                + (t.gaps().isEmpty() ? "" : ", missing " + t.gaps().stream().map(Gap::toString).collect(Collectors.joining(", "))))
                .collect(Collectors.joining("\n"));
    }
}
