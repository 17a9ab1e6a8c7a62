package io.backupkit.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.backupkit.BackupResult;
import io.backupkit.KeySlotInfo;
import io.backupkit.RestorePlan;
import io.backupkit.RestoreResult;
import io.backupkit.Snapshot;
import io.backupkit.SnapshotStream;
import io.backupkit.StreamResult;
import io.backupkit.VerificationCheck;
import io.backupkit.VerificationReport;

import java.util.List;
import java.util.Map;

/**
 * The {@code --json} documents. Field names are a contract for scripts (documented in docs/cli.md):
 * add fields freely, never rename or remove one.
 */
final class Json {
    static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Json() {
    }

    static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    static String write(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render JSON: " + e.getMessage(), e);
        }
    }

    /** A ratio as a JSON number; null when it is infinite (nothing new was stored). */
    static void putRatio(ObjectNode node, String field, double ratio) {
        if (Double.isInfinite(ratio) || Double.isNaN(ratio)) {
            node.putNull(field);
        } else {
            node.put(field, Math.round(ratio * 1000) / 1000.0);
        }
    }

    static ObjectNode snapshotSummary(Snapshot s) {
        ObjectNode n = object();
        n.put("id", s.id());
        n.put("shortId", s.shortId());
        n.put("time", s.time().toString());
        n.put("hostname", s.hostname());
        n.put("engine", s.engine());
        n.put("source", Redact.url(s.source())); // as in the text output: an engine may record a URL
        ObjectNode tags = n.putObject("tags");
        s.tags().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> tags.put(e.getKey(), e.getValue()));
        n.put("bytesRead", s.bytesRead());
        n.put("bytesStored", s.bytesStored());
        n.put("durationMillis", s.durationMillis());
        n.put("streamCount", s.streams().size());
        List<?> tables = tables(s);
        n.put("tableCount", tables.size());
        io.backupkit.postgres.PhysicalSnapshots.info(s).ifPresent(p -> {
            ObjectNode o = n.putObject("physical");
            o.put("systemId", p.systemId());
            o.put("timeline", p.timeline());
            o.put("startLsn", p.startLsn().toString());
            o.put("stopLsn", p.stopLsn().toString());
            o.put("stopTime", p.stopTime().toString());
            o.put("method", p.method());
            o.put("pgVersion", p.pgVersion());
        });
        return n;
    }

    /** Recoverable windows of physical snapshots, per cluster and timeline. */
    static ArrayNode windows(List<io.backupkit.postgres.PhysicalSnapshots.Window> windows) {
        ArrayNode arr = MAPPER.createArrayNode();
        for (var w : windows) {
            ObjectNode o = arr.addObject();
            o.put("systemId", w.systemId());
            o.put("timeline", w.timeline());
            o.put("path", w.path());
            o.put("baseSnapshot", w.baseSnapshot());
            o.put("fromTime", w.fromTime().toString());
            o.put("fromLsn", w.fromLsn().toString());
            if (w.toTime() == null) {
                o.putNull("toTime");
            } else {
                o.put("toTime", w.toTime().toString());
            }
            o.put("toLsn", w.toLsn().toString());
            if (w.gap() == null) {
                o.putNull("gap");
            } else {
                o.put("gap", w.gap());
            }
        }
        return arr;
    }

    static ObjectNode snapshotDetail(Snapshot s) {
        ObjectNode n = snapshotSummary(s);
        ArrayNode streams = n.putArray("streams");
        for (SnapshotStream st : s.streams()) {
            ObjectNode o = streams.addObject();
            o.put("name", st.name());
            o.put("size", st.size());
            o.put("sha256", st.sha256());
            // which value "sha256" holds: only "sha256" is comparable with sha256sum of the restored stream
            o.put("digest", st.digest());
            o.put("blobCount", st.blobCount());
        }
        n.set("tables", MAPPER.valueToTree(tables(s)));
        n.set("metadata", metadata(s));
        return n;
    }

    /** The engine's table list from the manifest metadata ("tables"), or empty. */
    static List<?> tables(Snapshot s) {
        Object t = s.metadata().get("tables");
        if (t instanceof List<?> list) {
            return list;
        }
        if (t instanceof Map<?, ?> map) {
            return map.entrySet().stream().map(e -> {
                if (e.getValue() instanceof Map<?, ?> m) {
                    java.util.LinkedHashMap<Object, Object> merged = new java.util.LinkedHashMap<>();
                    merged.put("name", e.getKey());
                    merged.putAll(m);
                    return merged;
                }
                return Map.of("name", e.getKey(), "value", e.getValue());
            }).toList();
        }
        return List.of();
    }

    private static JsonNode metadata(Snapshot s) {
        try {
            return MAPPER.valueToTree(s.metadata());
        } catch (IllegalArgumentException e) {
            ObjectNode fallback = object();
            s.metadata().forEach((k, v) -> fallback.put(k, String.valueOf(v)));
            return fallback;
        }
    }

    static ObjectNode backup(BackupResult r) {
        ObjectNode n = object();
        n.set("snapshot", snapshotSummary(r.snapshot()));
        n.put("bytesRead", r.bytesRead());
        n.put("bytesStored", r.bytesStored());
        putRatio(n, "dedupRatio", r.dedupRatio());
        n.put("durationMillis", r.duration().toMillis());
        ArrayNode streams = n.putArray("streams");
        for (StreamResult sr : r.streams()) {
            ObjectNode o = streams.addObject();
            o.put("name", sr.name());
            o.put("bytesRead", sr.bytesRead());
            o.put("bytesStored", sr.bytesStored());
            o.put("blobs", sr.blobs());
            o.put("newBlobs", sr.newBlobs());
        }
        n.set("tables", MAPPER.valueToTree(tables(r.snapshot())));
        return n;
    }

    static ObjectNode plan(RestorePlan p) {
        ObjectNode n = object();
        n.put("target", Redact.url(p.target()));
        n.put("bytes", p.bytes());
        ArrayNode actions = n.putArray("actions");
        p.actions().forEach(actions::add);
        return n;
    }

    static ObjectNode restore(RestoreResult r) {
        ObjectNode n = object();
        n.put("snapshot", r.snapshotId());
        n.put("target", r.plan() == null ? null : Redact.url(r.plan().target()));
        n.put("dryRun", r.dryRun());
        n.put("bytesRestored", r.bytesRestored());
        n.put("durationMillis", r.duration() == null ? 0 : r.duration().toMillis());
        if (r.plan() != null) {
            n.set("plan", plan(r.plan()));
        }
        return n;
    }

    static ObjectNode verification(VerificationReport r) {
        ObjectNode n = object();
        n.put("snapshot", r.snapshotId());
        n.put("level", r.level().name().toLowerCase(java.util.Locale.ROOT));
        n.put("passed", r.passed());
        n.put("passRate", Math.round(r.passRate() * 10000) / 10000.0);
        n.put("durationMillis", r.duration() == null ? 0 : r.duration().toMillis());
        long passed = r.checks().stream().filter(c -> c.status() == VerificationCheck.Status.PASSED).count();
        long skipped = r.checks().stream().filter(c -> c.status() == VerificationCheck.Status.SKIPPED).count();
        n.put("checksPassed", passed);
        n.put("checksFailed", r.failures().size());
        n.put("checksSkipped", skipped);
        ArrayNode checks = n.putArray("checks");
        for (VerificationCheck c : r.checks()) {
            ObjectNode o = checks.addObject();
            o.put("name", c.name());
            o.put("status", c.status().name().toLowerCase(java.util.Locale.ROOT));
            o.put("message", c.message());
        }
        return n;
    }

    static ObjectNode keySlot(KeySlotInfo k) {
        ObjectNode n = object();
        n.put("id", k.id());
        n.put("type", k.type());
        n.put("created", k.created() == null ? null : k.created().toString());
        n.put("host", k.host());
        n.put("current", k.current());
        return n;
    }

    static ObjectNode summary(io.backupkit.SnapshotSummary s) {
        ObjectNode n = object();
        n.put("id", s.id());
        n.put("shortId", s.shortId());
        n.put("time", s.time().toString());
        n.put("hostname", s.hostname());
        n.put("engine", s.engine());
        n.put("source", Redact.url(s.source()));
        n.put("database", s.database());
        ObjectNode tags = n.putObject("tags");
        s.tags().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> tags.put(e.getKey(), e.getValue()));
        return n;
    }

    static ObjectNode prune(io.backupkit.PruneResult r) {
        ObjectNode n = object();
        n.put("dryRun", r.dryRun());
        n.put("snapshotsRemoved", 0);
        n.put("snapshotsKept", r.snapshots());
        n.put("packsDeleted", r.packsDeleted());
        n.put("packsRepacked", r.packsRepacked());
        n.put("packsWritten", r.packsWritten());
        n.put("bytesDeleted", r.bytesDeleted());
        n.put("bytesWritten", r.bytesWritten());
        n.put("bytesFreed", r.bytesFreed());
        n.put("packsMarked", r.packsMarked());
        n.put("packsResurrected", r.packsResurrected());
        n.put("packsPending", r.packsPending());
        n.put("bytesPending", r.bytesPending());
        ArrayNode because = n.putArray("pendingBecause");
        r.pendingBecause().forEach(because::add);
        n.put("bytesUnused", r.bytesUnused());
        n.put("indexObjectsWritten", r.indexObjectsWritten());
        n.put("indexObjectsDeleted", r.indexObjectsDeleted());
        n.put("durationMillis", r.duration().toMillis());
        return n;
    }

    static ObjectNode lock(io.backupkit.LockSummary l) {
        ObjectNode n = object();
        n.put("name", l.name());
        n.put("kind", l.kind());
        n.put("operation", l.operation());
        n.put("host", l.host());
        n.put("pid", l.pid());
        n.put("created", l.created() == null ? null : l.created().toString());
        n.put("ageSeconds", l.age().toSeconds());
        n.put("stale", l.stale());
        n.put("why", l.why());
        return n;
    }

    static ObjectNode error(Throwable t, int exitCode) {
        ObjectNode n = object();
        ObjectNode e = n.putObject("error");
        e.put("type", t.getClass().getSimpleName());
        e.put("message", Errors.message(t));
        e.put("exitCode", exitCode);
        return n;
    }

    static ObjectNode walCommand(String command, String file, int exitCode, String result) {
        ObjectNode n = object();
        n.put("command", command);
        n.put("file", file);
        n.put("result", result);
        n.put("exitCode", exitCode);
        return n;
    }

    static ObjectNode walReceiver(io.backupkit.postgres.WalReceiver.Status s) {
        ObjectNode n = object();
        n.put("state", s.state().name().toLowerCase(java.util.Locale.ROOT));
        n.put("systemId", Long.toUnsignedString(s.systemId()));
        n.put("timeline", s.timeline());
        n.put("received", s.received().toString());
        n.put("stored", s.stored().toString());
        n.put("segmentsStored", s.segmentsStored());
        n.put("partialsStored", s.partialsStored());
        n.put("bytesReceived", s.bytesReceived());
        n.put("reconnects", s.reconnects());
        if (s.lastError() != null) {
            n.put("lastError", s.lastError());
        }
        return n;
    }
}
