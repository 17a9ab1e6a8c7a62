package io.backupkit.postgres.internal.physical;

import io.backupkit.ConfigurationException;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Timeline histories ({@code 00000002.history}: one line per ancestor, "parent TLI, LSN where it
 * ended, reason") and the questions a restore asks of them: which timelines lead from a base backup
 * to a target timeline, and whether that target forked off before the backup was consistent.
 */
public final class Timelines {
    /** A stretch of WAL on one timeline: [begin, end); end null for the target timeline itself. */
    public record Span(int timeline, Lsn begin, Lsn end) {
        public boolean contains(Lsn lsn) {
            return !lsn.isBefore(begin) && (end == null || lsn.isBefore(end));
        }
    }

    /** Per timeline (above 1), the ancestors from its history file, oldest first. */
    private final Map<Integer, List<Span>> histories = new TreeMap<>();

    /** Adds the history file of {@code timeline}. */
    public void addHistory(int timeline, String content) {
        List<Span> spans = new ArrayList<>();
        Lsn begin = Lsn.ZERO;
        for (String line : content.split("\n")) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            String[] f = l.split("\\s+");
            if (f.length < 2) {
                throw new ConfigurationException("history file of timeline " + timeline + " has an unreadable line: " + l);
            }
            int tli = Integer.parseInt(f[0]);
            Lsn end = Lsn.parse(f[1]);
            spans.add(new Span(tli, begin, end));
            begin = end;
        }
        spans.add(new Span(timeline, begin, null));
        histories.put(timeline, List.copyOf(spans));
    }

    /** The newest timeline known: the highest with a history file, at least {@code atLeast}. */
    public int newest(int atLeast) {
        return histories.keySet().stream().mapToInt(Integer::intValue).max().orElse(atLeast) < atLeast ? atLeast
                : Math.max(atLeast, histories.keySet().stream().mapToInt(Integer::intValue).max().orElse(atLeast));
    }

    public boolean knows(int timeline) {
        return timeline == 1 || histories.containsKey(timeline);
    }

    /** The timelines from 1 to {@code target}, each with the WAL range it covers. */
    public List<Span> path(int target) {
        if (target == 1) {
            return List.of(new Span(1, Lsn.ZERO, null));
        }
        List<Span> p = histories.get(target);
        if (p == null) {
            throw new ConfigurationException("timeline " + target + " has no history file in the archive");
        }
        return p;
    }

    /**
     * The part of {@link #path(int)} from the base backup's timeline on, or a clear refusal when the
     * target timeline does not lead through the base backup: it descends from another timeline, or it
     * forked from the backup's timeline before the backup was consistent.
     */
    public List<Span> pathFrom(int baseTimeline, Lsn baseStop, int target, String backup) {
        List<Span> path = path(target);
        for (int i = 0; i < path.size(); i++) {
            Span s = path.get(i);
            if (s.timeline() == baseTimeline) {
                if (s.end() != null && s.end().isBefore(baseStop)) {
                    throw new ConfigurationException("timeline " + target + " forked from timeline " + baseTimeline + " at " + s.end()
                            + ", before base backup " + backup + " was consistent (" + baseStop + " on timeline " + baseTimeline
                            + "): its WAL cannot be replayed on that backup. Use a base backup that ends before " + s.end()
                            + ", or recover along timeline " + baseTimeline + " (--timeline " + baseTimeline + ")");
                }
                return path.subList(i, path.size());
            }
        }
        throw new ConfigurationException("timeline " + target + " does not descend from timeline " + baseTimeline + " of base backup "
                + backup + " (its history: " + path.stream().map(s -> Integer.toString(s.timeline())).collect(Collectors.joining(" → "))
                + "); use a base backup taken on one of those timelines");
    }
}
