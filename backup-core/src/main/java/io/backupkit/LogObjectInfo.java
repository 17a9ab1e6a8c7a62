package io.backupkit;

import java.time.Instant;
import java.util.Map;

/**
 * The sealed header of a {@link LogArchive} object: authenticated facts about its content.
 *
 * @param name       the name inside the archive
 * @param length     content length in bytes
 * @param sha256     hex SHA-256 of the content
 * @param created    when the object was written (writer's clock)
 * @param attributes the engine metadata given to {@code put}
 * @param storedSize bytes in storage
 */
public record LogObjectInfo(String name, long length, String sha256, Instant created, Map<String, String> attributes,
                            long storedSize) {
    public LogObjectInfo {
        attributes = Map.copyOf(attributes);
    }
}
