package io.backupkit;

/** A storage operation failed; {@link #retryable()} says whether trying again may help. */
public class StorageException extends BackupException {
    private static final long serialVersionUID = 1L;
    private final boolean retryable;

    public StorageException(String message, boolean retryable) {
        super(message);
        this.retryable = retryable;
    }

    public StorageException(String message, boolean retryable, Throwable cause) {
        super(message, cause);
        this.retryable = retryable;
    }

    /** Whether the same call may succeed when repeated (throttling, 5xx, connection reset). */
    public boolean retryable() {
        return retryable;
    }
}
