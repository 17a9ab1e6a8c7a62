package io.backupkit.postgres;

/**
 * What the restored server does when it reaches its {@link RecoveryTarget}
 * ({@code recovery_target_action}): {@link #PAUSE} to inspect before deciding (then
 * {@code SELECT pg_wal_replay_resume()} to promote), {@link #PROMOTE} to open for writes on a new
 * timeline, {@link #SHUTDOWN} to stop (restart with a later target to replay further).
 */
public enum RecoveryTargetAction {
    PAUSE, PROMOTE, SHUTDOWN;

    /** The setting's value ("pause", "promote", "shutdown"). */
    public String setting() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
