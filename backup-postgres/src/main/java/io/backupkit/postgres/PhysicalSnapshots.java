package io.backupkit.postgres;

import io.backupkit.ConfigurationException;
import io.backupkit.Repository;
import io.backupkit.Snapshot;
import io.backupkit.VerificationCheck;
import io.backupkit.postgres.internal.physical.PhysicalMetadata;
import io.backupkit.postgres.internal.physical.WalVerification;
import io.backupkit.postgres.internal.physical.WalWindow;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * What a repository's physical snapshots (base backups) and archived WAL can restore: the facts of
 * each base backup, and per cluster and timeline the recoverable window — from the end of the
 * oldest base backup that reaches the timeline to the last commit in the gap-free archived WAL.
 *
 * <pre>{@code
 * for (PhysicalSnapshots.Window w : PhysicalSnapshots.windows(repo, repo.snapshots().list())) {
 *     log.info("timeline {}: {} .. {}", w.timeline(), w.fromTime(), w.toTime());
 * }
 * }</pre>
 */
public final class PhysicalSnapshots {
    private PhysicalSnapshots() {
    }

    /**
     * A base backup's facts.
     *
     * @param systemId  the cluster
     * @param timeline  the timeline it started on
     * @param startLsn  where replay starts
     * @param stopLsn   where it is consistent
     * @param stopTime  when it ended
     * @param method    "pg_basebackup" or "low-level"
     * @param pgVersion the server version
     */
    public record Info(String systemId, int timeline, Lsn startLsn, Lsn stopLsn, Instant stopTime, String method, String pgVersion) {
    }

    /**
     * A recoverable window of one timeline.
     *
     * @param systemId     the cluster
     * @param timeline     the timeline recovery ends on
     * @param path         the timelines recovery follows, "1 → 2"
     * @param baseSnapshot the base backup the window starts with (short id)
     * @param fromTime     when that base backup ended: the earliest time target
     * @param fromLsn      where it is consistent
     * @param toTime       the last commit in the archived WAL (the latest time target), or null when none
     * @param toLsn        end of the gap-free archived WAL
     * @param gap          the first missing segment when later WAL exists behind it, else null
     */
    public record Window(String systemId, int timeline, String path, String baseSnapshot, Instant fromTime, Lsn fromLsn, Instant toTime,
                         Lsn toLsn, String gap) {
    }

    /** The facts of a physical snapshot; empty for a logical one. */
    public static Optional<Info> info(Snapshot s) {
        if (!PhysicalMetadata.isPhysical(s)) {
            return Optional.empty();
        }
        PhysicalMetadata m = PhysicalMetadata.of(s);
        return Optional.of(new Info(m.systemIdentifier(), m.timeline(), m.startLsn(), m.stopLsn(), m.stopTime(), m.method(), m.pgVersion()));
    }

    /**
     * Per cluster and timeline that some base backup among {@code snapshots} reaches: the window that
     * starts with the oldest such base backup. Reads the newest archived segments of each timeline.
     */
    public static List<Window> windows(Repository repo, List<Snapshot> snapshots) {
        Map<String, List<Snapshot>> byCluster = new LinkedHashMap<>();
        for (Snapshot s : snapshots) {
            if (PhysicalMetadata.isPhysical(s)) {
                byCluster.computeIfAbsent(PhysicalMetadata.of(s).systemIdentifier(), k -> new ArrayList<>()).add(s);
            }
        }
        List<Window> out = new ArrayList<>();
        for (Map.Entry<String, List<Snapshot>> e : byCluster.entrySet()) {
            long sysid = Long.parseUnsignedLong(e.getKey());
            WalArchive wal = WalArchive.builder().repository(repo).systemId(sysid).build();
            Map<Integer, TimelineHistory> histories = wal.histories(sysid);
            TreeSet<Integer> timelines = new TreeSet<>(histories.keySet());
            e.getValue().forEach(s -> timelines.add(PhysicalMetadata.of(s).timeline()));
            for (int t : timelines) {
                // oldest first: the widest window
                for (Snapshot s : e.getValue()) {
                    Optional<Window> w = window(wal, sysid, s, t, histories);
                    if (w.isPresent()) {
                        out.add(w.get());
                        break;
                    }
                }
            }
        }
        return out;
    }

    /** The windows one base backup reaches, one per timeline. */
    public static List<Window> windows(Repository repo, Snapshot base) {
        PhysicalMetadata m = PhysicalMetadata.of(base);
        long sysid = Long.parseUnsignedLong(m.systemIdentifier());
        WalArchive wal = WalArchive.builder().repository(repo).systemId(sysid).build();
        Map<Integer, TimelineHistory> histories = wal.histories(sysid);
        TreeSet<Integer> timelines = new TreeSet<>(histories.keySet());
        timelines.add(m.timeline());
        List<Window> out = new ArrayList<>();
        for (int t : timelines) {
            window(wal, sysid, base, t, histories).ifPresent(out::add);
        }
        return out;
    }

    /**
     * WAL continuity of a base backup, as verification checks (what {@code backupkit verify} adds for
     * a physical snapshot at every level): one check per timeline reachable from it, from the first
     * segment recovery needs from the archive to the newest archived segment. A missing segment fails
     * its check, named; nothing is downloaded (segment names are listed). Empty for a logical snapshot.
     */
    public static List<VerificationCheck> verifyWal(Repository repo, Snapshot base) {
        if (!PhysicalMetadata.isPhysical(base)) {
            return List.of();
        }
        PhysicalMetadata m = PhysicalMetadata.of(base);
        WalArchive wal = WalArchive.builder().repository(repo).systemId(Long.parseUnsignedLong(m.systemIdentifier())).build();
        return WalVerification.checks(wal, m, base.shortId());
    }

    private static Optional<Window> window(WalArchive wal, long sysid, Snapshot s, int timeline, Map<Integer, TimelineHistory> histories) {
        PhysicalMetadata m = PhysicalMetadata.of(s);
        List<WalWindow.Span> path;
        try {
            path = WalWindow.pathFrom(m, s.shortId(), timeline, histories);
        } catch (ConfigurationException e) {
            return Optional.empty();
        }
        WalWindow w = WalWindow.compute(wal, sysid, m, path);
        return Optional.of(new Window(m.systemIdentifier(), timeline, w.describePath(), s.shortId(), m.stopTime(), m.stopLsn(),
                w.lastCommit(wal, sysid, m), w.contiguousTo(), w.gap()));
    }
}
