package io.backupkit.postgres.internal.physical;

import io.backupkit.ConfigurationException;
import io.backupkit.Repository;
import io.backupkit.Snapshot;
import io.backupkit.postgres.TimelineHistory;
import io.backupkit.postgres.WalArchive;

import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What "latest" means for a point-in-time restore: the newest physical base backup that was
 * consistent before the target (time or LSN) and whose timeline leads to the target timeline.
 */
public final class SnapshotChooser {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);

    private SnapshotChooser() {
    }

    public static Snapshot choose(Repository repo, List<Snapshot> snapshots, RestoreOptions o) {
        List<Snapshot> physical = new ArrayList<>();
        for (int i = snapshots.size() - 1; i >= 0; i--) {
            if (PhysicalMetadata.isPhysical(snapshots.get(i))) {
                physical.add(snapshots.get(i));
            }
        }
        if (physical.isEmpty()) {
            throw new ConfigurationException("repository " + repo.location() + " holds no physical base backup"
                    + (snapshots.isEmpty() ? "" : " (only logical snapshots, which restore into a database, not a data directory)")
                    + "; take one with: backupkit backup --physical");
        }
        if ("IMMEDIATE".equals(o.targetType())) {
            return physical.get(0);
        }
        Map<Long, Map<Integer, TimelineHistory>> histories = new HashMap<>();
        List<String> reasons = new ArrayList<>();
        for (Snapshot s : physical) {
            PhysicalMetadata m = PhysicalMetadata.of(s);
            String why = null;
            if ("TIME".equals(o.targetType()) && m.stopTime().isAfter(o.targetTime())) {
                why = "ended " + TIME.format(m.stopTime()) + ", after the target";
            } else if ("LSN".equals(o.targetType()) && m.stopLsn().isAfter(o.targetLsn())) {
                why = "ended at " + m.stopLsn() + ", after the target";
            } else {
                long sysid = Long.parseUnsignedLong(m.systemIdentifier());
                Map<Integer, TimelineHistory> h = histories.computeIfAbsent(sysid,
                        id -> WalArchive.builder().repository(repo).systemId(id).build().histories(id));
                try {
                    int tli = PitrPlan.targetTimeline(o.timeline(), m, h);
                    WalWindow.pathFrom(m, s.shortId(), tli, h);
                } catch (ConfigurationException e) {
                    why = e.getMessage();
                }
            }
            if (why == null) {
                return s;
            }
            reasons.add(s.shortId() + " " + why);
        }
        throw new ConfigurationException("no base backup in " + repo.location() + " can recover to " + o.targetDescription() + ": "
                + String.join("; ", reasons.subList(0, Math.min(4, reasons.size()))) + (reasons.size() > 4 ? "; …" : ""));
    }
}
