package io.backupkit.ops;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/**
 * Something a scheduled job did, sent to every {@link JobListener}.
 *
 * @param type       what happened
 * @param job        the job's name
 * @param jobKind    {@link ScheduledJob.Kind#BACKUP} or {@link ScheduledJob.Kind#DRILL}
 * @param tick       the schedule tick this run belongs to, or null for a one-shot run
 * @param time       when it happened
 * @param attempt    the attempt within the tick (1 = first)
 * @param snapshotId the snapshot written (backup) or restored (drill), or null
 * @param error      why it failed or was skipped, or null; never contains secrets
 * @param run        the finished run's record for SUCCEEDED, FAILED and VERIFIED; null otherwise
 */
public record JobEvent(Type type, String job, ScheduledJob.Kind jobKind, Instant tick, Instant time, int attempt,
                       String snapshotId, String error, RunRecord run) {

    /** Event types. Outcomes (what notifiers send by default) are SUCCEEDED, FAILED, VERIFIED and STALE. */
    public enum Type {
        /** An attempt started. */
        STARTED,
        /** The backup (and its verification, if any) or the drill succeeded. */
        SUCCEEDED,
        /** The run failed after its last attempt, or its verification failed. */
        FAILED,
        /** A snapshot was verified after the backup; {@code run().verification()} says how it went. */
        VERIFIED,
        /** The last success is older than the job allows (sent once when the job becomes stale). */
        STALE,
        /** A tick was not run here: another replica ran it or runs the job, or it was missed. */
        SKIPPED;

        /** Lower-case name, as in JSON documents ("succeeded"). */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        public boolean isOutcome() {
            return this == SUCCEEDED || this == FAILED || this == VERIFIED || this == STALE;
        }
    }

    /** One line for people: "backup job nightly FAILED: …". */
    public String summary() {
        return io.backupkit.ops.internal.EventJson.summary(this);
    }

    /** The JSON document a webhook receives (docs/operations.md); {@code repository} may be null. */
    public String toJson(String repository) {
        return new String(io.backupkit.ops.internal.EventJson.bytes(this, repository), java.nio.charset.StandardCharsets.UTF_8);
    }

    /** The run's wall time, or null. */
    public Duration duration() {
        return run == null ? null : Duration.ofMillis(run.durationMillis());
    }
}
