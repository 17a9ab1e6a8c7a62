package io.backupkit.internal.repo;

/**
 * Where a blob lives: its pack, byte range in the pack (the sealed bytes) and plaintext length.
 *
 * @param pack      pack object name ({@code data/xx/<id>})
 * @param offset    start of the sealed blob in the pack
 * @param length    sealed length
 * @param rawLength plaintext length
 */
public record BlobLocation(String pack, int offset, int length, int rawLength) {
}
