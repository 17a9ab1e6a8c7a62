package io.backupkit;

import java.net.URI;
import java.time.Instant;
import java.util.Map;

/**
 * What retention and listings need to know about a snapshot, without its engine metadata or streams:
 * small whatever the database's size.
 *
 * @param id          the snapshot id (64 hex digits)
 * @param time        when the backup started
 * @param hostname    the host that ran it
 * @param engine      the database engine
 * @param source      what was backed up, without secrets
 * @param database    the database name (engine metadata {@code database}, else the last path segment of a URL-like
 *                    source, else empty)
 * @param tags        user tags
 * @param bytesRead   plaintext bytes of all streams
 * @param bytesStored bytes the backup added to storage
 * @param streamCount number of streams
 */
public record SnapshotSummary(String id, Instant time, String hostname, String engine, String source, String database,
                              Map<String, String> tags, long bytesRead, long bytesStored, int streamCount) {
    public SnapshotSummary {
        tags = Map.copyOf(tags);
    }

    /** The first 8 hex digits of the id, as shown by the CLI. */
    public String shortId() {
        return id.substring(0, Math.min(8, id.length()));
    }

    /** The summary of a full snapshot. */
    public static SnapshotSummary of(Snapshot s) {
        return new SnapshotSummary(s.id(), s.time(), s.hostname(), s.engine(), s.source(), databaseOf(s.metadata(), s.source()),
                s.tags(), s.bytesRead(), s.bytesStored(), s.streams().size());
    }

    /** The database a snapshot is of: engine metadata {@code database}, else the path of a URL-like source. */
    public static String databaseOf(Map<String, Object> metadata, String source) {
        Object d = metadata == null ? null : metadata.get("database");
        if (d instanceof String s && !s.isBlank()) {
            return s;
        }
        if (source != null && source.contains("://")) {
            try {
                String path = URI.create(source.split(" ", 2)[0]).getPath();
                if (path != null) {
                    String last = path.substring(path.lastIndexOf('/') + 1);
                    return last;
                }
            } catch (IllegalArgumentException notAUri) {
                // fall through
            }
        }
        return "";
    }
}
