package io.backupkit.ops;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.backupkit.ops.internal.OpsJson;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

/**
 * Whether backups are in order, and if not, why: the answer of {@link BackupScheduler#health()},
 * served as JSON by {@link OpsHttpServer} ({@code /health}: 200 healthy, 503 unhealthy).
 *
 * <pre>{@code
 * Health h = scheduler.health();
 * if (!h.healthy()) log.warn("backups unhealthy: {}", h.reasons());
 * }</pre>
 *
 * @param healthy true when no job is unhealthy
 * @param checked when this was computed
 * @param reasons every reason for being unhealthy, one sentence each
 * @param jobs    each job's state
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Health(boolean healthy, Instant checked, List<String> reasons, List<JobHealth> jobs) {
    public Health {
        reasons = List.copyOf(reasons);
        jobs = List.copyOf(jobs);
    }

    /** "UP" or "DOWN", as health endpoints usually say. */
    public String status() {
        return healthy ? "UP" : "DOWN";
    }

    /** The JSON document served at {@code /health}. */
    public String toJson() {
        return new String(OpsJson.write(this), StandardCharsets.UTF_8);
    }

    /**
     * One job's state.
     *
     * @param job              name
     * @param kind             backup or drill
     * @param healthy          false when any reason applies
     * @param reasons          why it is unhealthy
     * @param running          a run is in progress
     * @param lastRun          how the last run ended ("succeeded", "failed") or null
     * @param lastRunAt        when it ended
     * @param lastError        its error, or null
     * @param lastSuccessAt    when the last successful run ended, or null
     * @param lastSnapshot     the last snapshot written (backup) or restored (drill)
     * @param rpoSeconds       age of the job's newest snapshot (backup jobs), or null
     * @param rpoTargetSeconds the RPO target, or null
     * @param rtoSeconds       the last drill's measured restore time (drill jobs), or null
     * @param rtoTargetSeconds the RTO target, or null
     * @param nextTick         the next scheduled tick
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record JobHealth(String job, String kind, boolean healthy, List<String> reasons, boolean running, String lastRun,
                            Instant lastRunAt, String lastError, Instant lastSuccessAt, String lastSnapshot, Long rpoSeconds,
                            Long rpoTargetSeconds, Double rtoSeconds, Long rtoTargetSeconds, Instant nextTick) {
        public JobHealth {
            reasons = List.copyOf(reasons);
        }
    }
}
