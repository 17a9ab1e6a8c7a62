package io.backupkit;

/**
 * Stored data is damaged or does not match what was recorded: a checksum, authentication tag or
 * structure check failed. Never retried; {@link #objectName()} names the damaged object.
 */
public class IntegrityException extends BackupException {
    private static final long serialVersionUID = 1L;
    private final String objectName;

    public IntegrityException(String objectName, String message) {
        super(objectName + ": " + message);
        this.objectName = objectName;
    }

    public IntegrityException(String objectName, String message, Throwable cause) {
        super(objectName + ": " + message, cause);
        this.objectName = objectName;
    }

    /** The repository object (for example {@code data/3f/3fa2…} or {@code snapshots/91c0…}) that failed. */
    public String objectName() {
        return objectName;
    }
}
