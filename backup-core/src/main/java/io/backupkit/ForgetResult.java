package io.backupkit;

import java.util.List;

/**
 * What {@link ForgetManager#forget()} removed (or with {@code dryRun} would remove).
 *
 * @param plan    the policy's decision per group, with reasons
 * @param removed snapshots whose manifests were deleted (or would be)
 * @param dryRun  nothing was deleted
 */
public record ForgetResult(RetentionPlan plan, List<SnapshotSummary> removed, boolean dryRun) {
    public ForgetResult {
        removed = List.copyOf(removed);
    }
}
