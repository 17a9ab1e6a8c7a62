package io.backupkit;

import java.time.Duration;
import java.util.List;

/**
 * The outcome of verifying one snapshot: every check with its status, and an overall verdict.
 *
 * @param snapshotId the snapshot checked
 * @param level      how deeply
 * @param checks     each check, in the order run
 * @param duration   wall time
 */
public record VerificationReport(String snapshotId, VerificationLevel level, List<VerificationCheck> checks,
                                 Duration duration) {
    public VerificationReport {
        checks = List.copyOf(checks);
    }

    /** True when no check failed. */
    public boolean passed() {
        return checks.stream().noneMatch(VerificationCheck::failed);
    }

    public List<VerificationCheck> failures() {
        return checks.stream().filter(VerificationCheck::failed).toList();
    }

    /** Passed checks / checks that ran (skipped ones do not count); 1.0 when none ran. */
    public double passRate() {
        long ran = checks.stream().filter(c -> c.status() != VerificationCheck.Status.SKIPPED).count();
        long ok = checks.stream().filter(c -> c.status() == VerificationCheck.Status.PASSED).count();
        return ran == 0 ? 1.0 : (double) ok / ran;
    }
}
