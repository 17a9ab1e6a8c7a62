package io.backupkit;

/**
 * One named stream of a snapshot.
 *
 * @param name      stream name given by the engine ("pre-data", "data-0003", …)
 * @param size      plaintext bytes
 * @param sha256    SHA-256 of the whole plaintext, hex; rechecked on every restore
 * @param blobCount number of chunks the stream was cut into
 */
public record SnapshotStream(String name, long size, String sha256, int blobCount) {
}
