package io.backupkit;

import java.time.Duration;
import java.util.List;

/**
 * What a backup did.
 *
 * @param snapshot    the snapshot written
 * @param bytesRead   plaintext bytes read from the source
 * @param bytesStored new bytes written to storage (packs, index, manifest) after dedup, compression and encryption
 * @param duration    wall time
 * @param streams     per-stream figures
 */
public record BackupResult(Snapshot snapshot, long bytesRead, long bytesStored, Duration duration,
                           List<StreamResult> streams) {
    public BackupResult {
        streams = List.copyOf(streams);
    }

    public String snapshotId() {
        return snapshot.id();
    }

    /** bytes read / bytes stored; higher is better ({@code Double.POSITIVE_INFINITY} when nothing was stored). */
    public double dedupRatio() {
        return bytesStored == 0 ? Double.POSITIVE_INFINITY : (double) bytesRead / bytesStored;
    }
}
