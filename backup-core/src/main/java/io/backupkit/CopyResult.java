package io.backupkit;

import java.time.Duration;
import java.util.List;

/**
 * What {@link SnapshotCopier#copy()} did.
 *
 * @param copied        snapshots copied: source id → destination id
 * @param skipped       source snapshots the destination already had (copied before)
 * @param bytesRead     plaintext bytes read from the source
 * @param bytesWritten  bytes written to the destination (new packs, indexes, manifests)
 * @param streamsReused streams not read at all: the destination already had a stream with the same content
 * @param duration      how long it took
 */
public record CopyResult(List<Copied> copied, List<String> skipped, long bytesRead, long bytesWritten, int streamsReused,
                         Duration duration) {
    public CopyResult {
        copied = List.copyOf(copied);
        skipped = List.copyOf(skipped);
    }

    /** One copied snapshot. */
    public record Copied(String sourceId, String destinationId) {
    }
}
