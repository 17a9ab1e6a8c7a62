package io.backupkit;

import java.time.Instant;

/**
 * One object of a {@link LogArchive} as the storage lists it (nothing downloaded).
 *
 * @param name       the name inside the archive (without the namespace prefix)
 * @param storedSize bytes in storage (compressed and sealed)
 * @param modified   when the storage says it was written, or {@code Instant.EPOCH} when unknown
 */
public record LogObject(String name, long storedSize, Instant modified) {
}
