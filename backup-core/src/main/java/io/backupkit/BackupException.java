package io.backupkit;

/**
 * Root of every exception backupkit throws. All are unchecked; subclasses say what the caller can do:
 * retry ({@link StorageException#retryable()}), treat data as damaged ({@link IntegrityException}),
 * fix the setup ({@link ConfigurationException}, {@link KeyException}) or look at the database tool
 * ({@link EngineException}).
 *
 * <p>Messages say what failed, on which object, and what to do. They never contain secrets.
 */
public class BackupException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BackupException(String message) {
        super(message);
    }

    public BackupException(String message, Throwable cause) {
        super(message, cause);
    }
}
