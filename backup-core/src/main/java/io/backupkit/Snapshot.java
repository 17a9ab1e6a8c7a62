package io.backupkit;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One backup as recorded in its manifest: when, of what, with which streams. Every snapshot is full
 * for restore: no restore needs an earlier snapshot.
 *
 * @param id          the snapshot id (64 hex digits; the first 8 are enough on the command line)
 * @param time        when the backup started
 * @param hostname    the host that ran it
 * @param engine      the database engine ("postgresql")
 * @param source      what was backed up, without secrets
 * @param tags        user tags
 * @param streams     the named streams, in the order the source opened them
 * @param metadata    engine metadata (server version, tables and row counts, …)
 * @param bytesRead   plaintext bytes of all streams
 * @param bytesStored bytes this backup added to storage in packs and index (the manifest's own size is in
 *                    {@link BackupResult#bytesStored()} only)
 * @param durationMillis how long the backup took
 */
public record Snapshot(String id, Instant time, String hostname, String engine, String source,
                       Map<String, String> tags, List<SnapshotStream> streams, Map<String, Object> metadata,
                       long bytesRead, long bytesStored, long durationMillis) {

    public Snapshot {
        tags = Map.copyOf(tags);
        streams = List.copyOf(streams);
        metadata = metadata == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(metadata));
    }

    /** The first 8 hex digits of the id, as shown by the CLI. */
    public String shortId() {
        return id.substring(0, Math.min(8, id.length()));
    }

    public Optional<SnapshotStream> stream(String name) {
        return streams.stream().filter(s -> s.name().equals(name)).findFirst();
    }
}
