package io.backupkit.spi;

import java.time.Instant;

/**
 * What storage knows about one object.
 *
 * @param name     the object's name, relative to the storage root, '/'-separated
 * @param size     its size in bytes
 * @param modified when it was written, or {@code Instant.EPOCH} when the storage does not say
 */
public record ObjectInfo(String name, long size, Instant modified) {
}
