package io.backupkit.ops.internal;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backupkit.ops.JobEvent;
import io.backupkit.ops.RunRecord;

import java.nio.charset.StandardCharsets;

/** The JSON document a webhook receives for one event (documented in docs/operations.md). */
public final class EventJson {
    private EventJson() {
    }

    public static ObjectNode of(JobEvent e, String repository) {
        ObjectNode n = OpsJson.MAPPER.createObjectNode();
        n.put("event", e.type().label());
        n.put("status", e.type().label());
        n.put("job", e.job());
        n.put("kind", e.jobKind().name().toLowerCase(java.util.Locale.ROOT));
        n.put("time", e.time().toString());
        n.put("tick", e.tick() == null ? null : e.tick().toString());
        n.put("attempt", e.attempt());
        n.put("snapshot", e.snapshotId());
        n.put("error", e.error());
        n.put("host", Hosts.name());
        if (repository != null) {
            n.put("repository", repository);
        }
        RunRecord r = e.run();
        if (r != null) {
            n.put("bytesRead", r.bytesRead());
            n.put("bytesStored", r.bytesStored());
            n.put("durationMillis", r.durationMillis());
            if (r.isDrill() && r.succeeded()) {
                n.put("rtoSeconds", r.durationMillis() / 1000.0);
            }
            if (r.rpoTargetSeconds() != null) {
                n.put("rpoTargetSeconds", r.rpoTargetSeconds());
            }
            if (r.rtoTargetSeconds() != null) {
                n.put("rtoTargetSeconds", r.rtoTargetSeconds());
            }
            if (r.verification() != null) {
                n.set("verification", OpsJson.MAPPER.valueToTree(r.verification()));
            }
        }
        return n;
    }

    public static byte[] bytes(JobEvent e, String repository) {
        try {
            return OpsJson.MAPPER.writeValueAsString(of(e, repository)).getBytes(StandardCharsets.UTF_8);
        } catch (com.fasterxml.jackson.core.JsonProcessingException ex) {
            throw new IllegalStateException(ex);
        }
    }

    /** One line for people (Slack, email subjects). */
    public static String summary(JobEvent e) {
        String who = ("drill".equals(e.jobKind().name().toLowerCase(java.util.Locale.ROOT)) ? "restore drill " : "backup job ") + e.job();
        String snap = e.snapshotId() == null ? "" : " (snapshot " + e.snapshotId().substring(0, Math.min(8, e.snapshotId().length())) + ")";
        return switch (e.type()) {
            case SUCCEEDED -> who + " succeeded" + snap + (e.run() != null && e.run().isDrill()
                    ? ": restored in " + Runs.human(java.time.Duration.ofMillis(e.run().durationMillis())) : "");
            case FAILED -> who + " FAILED" + snap + ": " + e.error();
            case VERIFIED -> who + (e.run() != null && e.run().verification() != null && e.run().verification().passed()
                    ? " verified" + snap : " verification FAILED" + snap + ": " + e.error());
            case STALE -> who + " is STALE: " + e.error();
            case STARTED -> who + " started (attempt " + e.attempt() + ")";
            case SKIPPED -> who + " skipped a tick: " + e.error();
        };
    }
}
