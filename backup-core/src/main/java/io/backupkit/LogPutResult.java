package io.backupkit;

import java.time.Duration;

/**
 * What {@link LogArchive#put} did.
 *
 * @param name       the name inside the archive
 * @param status     stored now, or already there with the same content
 * @param length     content length
 * @param storedSize bytes in storage (of the object written now or found)
 * @param sha256     hex SHA-256 of the content
 * @param duration   time the put took
 */
public record LogPutResult(String name, Status status, long length, long storedSize, String sha256, Duration duration) {

    /** Whether the put wrote the object or found it. */
    public enum Status {
        /** Written now and durable. */
        STORED,
        /** An object with this name and the same content existed; nothing was written. */
        ALREADY_PRESENT
    }
}
