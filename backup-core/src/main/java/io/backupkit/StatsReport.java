package io.backupkit;

import java.util.List;

/**
 * Sizes of a repository and its snapshots.
 *
 * @param snapshots         per snapshot (all, or the one asked for)
 * @param snapshotCount     snapshots in the repository
 * @param rawBytes          plaintext bytes of all snapshots together (what restoring each would write)
 * @param uniqueRawBytes    plaintext bytes of the distinct blobs they reference (after deduplication)
 * @param deduplicatedBytes stored bytes of those blobs (after deduplication and compression)
 * @param storedBytes       bytes of all packs, indexes and manifests in storage
 * @param unusedBytes       bytes of packs that no snapshot needs (prune frees them)
 * @param packs             packs in the index
 * @param blobs             distinct blobs referenced
 */
public record StatsReport(List<SnapshotStats> snapshots, int snapshotCount, long rawBytes, long uniqueRawBytes,
                          long deduplicatedBytes, long storedBytes, long unusedBytes, int packs, long blobs) {
    public StatsReport {
        snapshots = List.copyOf(snapshots);
    }

    /** rawBytes / uniqueRawBytes: how much deduplication saves (1 without any). */
    public double dedupRatio() {
        return uniqueRawBytes == 0 ? 1 : (double) rawBytes / uniqueRawBytes;
    }

    /** uniqueRawBytes / deduplicatedBytes: how much compression saves. */
    public double compressionRatio() {
        return deduplicatedBytes == 0 ? 1 : (double) uniqueRawBytes / deduplicatedBytes;
    }
}
