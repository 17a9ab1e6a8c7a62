package io.backupkit.spi;

import java.time.Instant;
import java.util.Optional;

/**
 * What storage knows about one object.
 *
 * @param name     the object's name, relative to the storage root, '/'-separated
 * @param size     its size in bytes
 * @param modified when it was written, or {@code Instant.EPOCH} when the storage does not say
 */
public record ObjectInfo(String name, long size, Instant modified) {
    /** When the storage says it was written; empty when it does not ({@link #modified} is {@code Instant.EPOCH}). */
    public Optional<Instant> storageTime() {
        return Instant.EPOCH.equals(modified) ? Optional.empty() : Optional.of(modified);
    }
}
