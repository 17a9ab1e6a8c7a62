package io.backupkit;

import java.util.List;
import java.util.Map;

/**
 * What a {@link RetentionPolicy} keeps and removes, per group, with the reasons each kept snapshot is
 * kept ("daily snapshot", "within 7d", "oldest monthly snapshot", "tagged env=prod").
 *
 * @param policy the policy applied
 * @param groups one entry per group of snapshots
 */
public record RetentionPlan(RetentionPolicy policy, List<Group> groups) {
    public RetentionPlan {
        groups = List.copyOf(groups);
    }

    /**
     * One group: its key (e.g. engine, source, database) and its snapshots, oldest first.
     *
     * @param key    the group's key values
     * @param keep   snapshots kept, with reasons
     * @param remove snapshots to remove
     */
    public record Group(Map<String, String> key, List<Kept> keep, List<SnapshotSummary> remove) {
    }

    /** A kept snapshot and why. */
    public record Kept(SnapshotSummary snapshot, List<String> reasons) {
    }

    /** Every snapshot to remove, all groups. */
    public List<SnapshotSummary> toRemove() {
        return groups.stream().flatMap(g -> g.remove().stream()).toList();
    }

    /** Every snapshot kept, all groups. */
    public List<SnapshotSummary> toKeep() {
        return groups.stream().flatMap(g -> g.keep().stream()).map(Kept::snapshot).toList();
    }

    /** Groups that would lose every snapshot. */
    public List<Group> emptiedGroups() {
        return groups.stream().filter(g -> g.keep().isEmpty() && !g.remove().isEmpty()).toList();
    }
}
