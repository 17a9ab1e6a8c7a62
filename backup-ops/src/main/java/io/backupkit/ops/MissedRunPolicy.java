package io.backupkit.ops;

/**
 * What a job does about ticks that passed without a run: while the process was down (seen from the
 * claims in the repository), or while the previous run was still going (runs never overlap).
 */
public enum MissedRunPolicy {
    /** Run once, right away, for the newest missed tick; older missed ticks are skipped. The default. */
    RUN_ONCE,
    /** Skip every missed tick and wait for the next one. */
    SKIP
}
