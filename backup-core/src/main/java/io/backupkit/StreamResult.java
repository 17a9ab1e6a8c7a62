package io.backupkit;

/**
 * Figures for one stream of a backup.
 *
 * @param name        stream name
 * @param bytesRead   plaintext bytes
 * @param bytesStored bytes added to storage for this stream (after dedup, compression, encryption)
 * @param blobs       chunks
 * @param newBlobs    chunks not already in the repository
 */
public record StreamResult(String name, long bytesRead, long bytesStored, int blobs, int newBlobs) {
}
