package io.backupkit;

/**
 * One named stream of a snapshot.
 *
 * @param name      stream name given by the engine ("pre-data", "data-0003", …)
 * @param size      plaintext bytes
 * @param sha256    the stream's SHA-256 digest, hex, rechecked on every restore: in repositories of
 *                  format version 2 the SHA-256 over the SHA-256 digests of its chunks, in order; in
 *                  version 1 the SHA-256 of the whole plaintext (docs/repository-format.md)
 * @param blobCount number of chunks the stream was cut into
 */
public record SnapshotStream(String name, long size, String sha256, int blobCount) {
}
