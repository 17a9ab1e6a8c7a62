package io.backupkit;

/**
 * One named stream of a snapshot.
 *
 * <p>Which value {@code sha256} holds depends on the repository's format version, and {@code digest}
 * says which: only for {@link #SHA256} does it equal {@code sha256sum} of the restored stream.
 *
 * @param name      stream name given by the engine ("pre-data", "data-0003", …)
 * @param size      plaintext bytes
 * @param sha256    the stream's digest, hex, rechecked on every restore; its kind is {@code digest}
 * @param blobCount number of chunks the stream was cut into
 * @param digest    the kind of {@code sha256}: {@link #SHA256}, the SHA-256 of the whole plaintext
 *                  (repositories of format version 1), or {@link #SHA256_CHUNKS}, the SHA-256 over the
 *                  SHA-256 digests of its chunks, in order (format version 2; docs/repository-format.md)
 */
public record SnapshotStream(String name, long size, String sha256, int blobCount, String digest) {
    /** {@link #digest()} of a stream whose {@code sha256} is the SHA-256 of its whole plaintext. */
    public static final String SHA256 = "sha256";
    /** {@link #digest()} of a stream whose {@code sha256} is the SHA-256 over its chunks' SHA-256 digests. */
    public static final String SHA256_CHUNKS = "sha256-chunks";

    public SnapshotStream {
        if (!SHA256.equals(digest) && !SHA256_CHUNKS.equals(digest)) {
            throw new IllegalArgumentException("stream " + name + ": digest kind is " + digest + "; expected "
                    + SHA256 + " or " + SHA256_CHUNKS);
        }
    }

    /** A stream whose {@code sha256} is the SHA-256 of its whole plaintext ({@link #SHA256}). */
    public SnapshotStream(String name, long size, String sha256, int blobCount) {
        this(name, size, sha256, blobCount, SHA256);
    }

    /** Whether {@code sha256} is the SHA-256 of the stream's bytes, comparable with {@code sha256sum} of a restore. */
    public boolean isPlainSha256() {
        return SHA256.equals(digest);
    }
}
