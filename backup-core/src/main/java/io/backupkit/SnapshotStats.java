package io.backupkit;

import java.time.Instant;

/**
 * Sizes of one snapshot.
 *
 * @param id             snapshot id
 * @param time           when it was taken
 * @param rawBytes       plaintext bytes of its streams (what a restore writes)
 * @param blobs          blob references of its streams
 * @param uniqueBlobs    distinct blobs it references
 * @param storedBytes    stored (compressed, encrypted) bytes of those distinct blobs
 * @param exclusiveBytes stored bytes of the blobs no other snapshot references: what forgetting it frees
 */
public record SnapshotStats(String id, Instant time, long rawBytes, long blobs, long uniqueBlobs, long storedBytes,
                            long exclusiveBytes) {
    public String shortId() {
        return id.substring(0, Math.min(8, id.length()));
    }
}
