package io.backupkit;

import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.RepositoryAnalysis;

import java.util.List;

/**
 * What changed between two snapshots: streams added, removed and changed with the bytes that differ,
 * and for engines that record tables (PostgreSQL) tables added, removed and with other row counts.
 * Reads the snapshots' blob lists, no data.
 *
 * <pre>{@code
 * SnapshotDiff d = SnapshotDiff.between(repo, "3f2a", "latest");
 * d.streams().stream().filter(s -> s.change() != SnapshotDiff.Change.UNCHANGED).forEach(System.out::println);
 * }</pre>
 *
 * @param from         the older snapshot's id
 * @param to           the newer snapshot's id
 * @param streams      every stream of either snapshot
 * @param tables       every table either snapshot's metadata lists (empty for engines without tables)
 * @param bytesAdded   plaintext bytes in {@code to} that are not in {@code from}
 * @param bytesRemoved plaintext bytes in {@code from} that are not in {@code to}
 */
public record SnapshotDiff(String from, String to, List<StreamDiff> streams, List<TableDiff> tables, long bytesAdded,
                           long bytesRemoved) {
    public SnapshotDiff {
        streams = List.copyOf(streams);
        tables = List.copyOf(tables);
    }

    /** How a stream or table differs. */
    public enum Change { ADDED, REMOVED, CHANGED, UNCHANGED }

    /**
     * One stream.
     *
     * @param bytesAdded   plaintext bytes of blobs in the new stream that the old one lacks
     * @param bytesRemoved plaintext bytes of blobs in the old stream that the new one lacks
     */
    public record StreamDiff(String name, Change change, long sizeFrom, long sizeTo, long bytesAdded, long bytesRemoved) {
    }

    /** One table, with the row counts the snapshots recorded (-1 where absent). */
    public record TableDiff(String name, Change change, long rowsFrom, long rowsTo) {
    }

    /** Compares snapshots {@code from} and {@code to} (ids, prefixes or "latest"). */
    public static SnapshotDiff between(Repository repository, String from, String to) {
        if (!(repository instanceof DefaultRepository d)) {
            throw new ConfigurationException("repository must come from Repository.builder()");
        }
        return RepositoryAnalysis.diff(d, from, to);
    }
}
