package io.backupkit.postgres;


import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A parsed PostgreSQL timeline history file ({@code TTTTTTTT.history}): one line per ancestor timeline,
 * {@code parentTLI <tab> switchpoint <tab> reason}, oldest first. Timeline N's file lists every
 * timeline it descends from and where each was left.
 */
public record TimelineHistory(int timeline, List<Entry> entries) {

    /**
     * One ancestor: timeline {@code timeline} ended at {@code switchPoint} (exclusive: WAL from that
     * position on belongs to the next timeline).
     */
    public record Entry(int timeline, Lsn switchPoint, String reason) {
    }

    public TimelineHistory {
        entries = List.copyOf(entries);
    }

    /**
     * Parses a history file; comment lines ({@code #}) and blank lines are skipped.
     *
     * @throws IllegalArgumentException when a line is malformed
     */
    public static TimelineHistory parse(int timeline, byte[] content) {
        List<Entry> entries = new ArrayList<>();
        String text = new String(content, StandardCharsets.UTF_8);
        for (String line : text.split("\n")) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            String[] f = l.split("\\s+", 3);
            if (f.length < 2) {
                throw new IllegalArgumentException("malformed line in " + String.format("%08X.history", timeline) + ": " + l);
            }
            try {
                entries.add(new Entry(Integer.parseInt(f[0]), Lsn.parse(f[1]), f.length > 2 ? f[2] : ""));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("malformed line in " + String.format("%08X.history", timeline) + ": " + l, e);
            }
        }
        return new TimelineHistory(timeline, entries);
    }

    /** The timeline this one branched from, or 0 for timeline 1. */
    public int parent() {
        return entries.isEmpty() ? 0 : entries.get(entries.size() - 1).timeline();
    }

    /** Where this timeline branched from its parent, or {@link Lsn#INVALID} for timeline 1. */
    public Lsn branchPoint() {
        return entries.isEmpty() ? Lsn.INVALID : entries.get(entries.size() - 1).switchPoint();
    }

    /** Whether {@code ancestor} is this timeline or one it descends from. */
    public boolean descendsFrom(int ancestor) {
        return ancestor == timeline || entries.stream().anyMatch(e -> e.timeline() == ancestor);
    }

    /** Where {@code ancestor} was left on the way to this timeline, or empty for this timeline itself. */
    public java.util.Optional<Lsn> switchPointOf(int ancestor) {
        return entries.stream().filter(e -> e.timeline() == ancestor).map(Entry::switchPoint).findFirst();
    }

    /**
     * The timeline in this history that WAL position {@code lsn} belongs to: the first ancestor whose
     * switch point lies after it, else this timeline.
     */
    public int timelineAt(Lsn lsn) {
        for (Entry e : entries) {
            if (lsn.isBefore(e.switchPoint())) {
                return e.timeline();
            }
        }
        return timeline;
    }
}
