package io.backupkit.ops;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

import java.time.Instant;
import java.util.List;

/**
 * One finished run of a job as stored in the repository ({@code records/ops/<job>/runs/…}, sealed),
 * read back by health checks, metrics and the report. Fields may be added, never renamed.
 *
 * @param job              the job's name
 * @param kind             "backup" or "drill"
 * @param tick             the schedule tick, or null for a one-shot run
 * @param started          when the first attempt started
 * @param finished         when the run ended
 * @param status           "succeeded" or "failed"
 * @param attempts         attempts made
 * @param snapshot         the snapshot written (backup) or restored (drill), or null
 * @param error            why it failed, or null
 * @param bytesRead        plaintext bytes read (backup)
 * @param bytesStored      new bytes stored (backup)
 * @param durationMillis   wall time of the last attempt's backup, or of the drill's restore (its RTO)
 * @param verification     the verification after the backup, or the drill's; null when none ran
 * @param rpoTargetSeconds the job's RPO target, or null
 * @param rtoTargetSeconds the job's RTO target, or null
 * @param host             the host that ran it
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record RunRecord(String job, String kind, Instant tick, Instant started, Instant finished, String status, int attempts,
                        String snapshot, String error, long bytesRead, long bytesStored, long durationMillis,
                        Verification verification, Long rpoTargetSeconds, Long rtoTargetSeconds, String host) {

    public static final String SUCCEEDED = "succeeded";
    public static final String FAILED = "failed";

    public boolean succeeded() {
        return SUCCEEDED.equals(status);
    }

    public boolean isDrill() {
        return "drill".equals(kind);
    }

    /** A verification outcome: level, verdict, counts and the failed checks' messages. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Verification(String level, boolean passed, int checksPassed, int checksFailed, List<String> failures,
                               long durationMillis) {
        public Verification {
            failures = failures == null ? List.of() : List.copyOf(failures);
        }
    }
}
