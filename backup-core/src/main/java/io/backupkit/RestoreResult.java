package io.backupkit;

import java.time.Duration;

/**
 * What a restore did.
 *
 * @param snapshotId the snapshot restored
 * @param plan       the steps (for a dry run: the steps that would have been taken)
 * @param dryRun     true when nothing was changed
 * @param bytesRestored plaintext bytes streamed into the target
 * @param duration   wall time
 */
public record RestoreResult(String snapshotId, RestorePlan plan, boolean dryRun, long bytesRestored, Duration duration) {
}
