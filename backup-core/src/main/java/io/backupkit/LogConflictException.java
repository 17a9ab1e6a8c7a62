package io.backupkit;

/**
 * A log object of that name exists with different content. Log objects are written once and never
 * replaced, so this is never retried: someone must find out why two different files carry the same
 * name (two clusters archiving into one place, a restored copy archiving into its source's prefix, a
 * damaged file).
 */
public class LogConflictException extends BackupException {
    private static final long serialVersionUID = 1L;
    private final String objectName;
    private final String storedSha256;
    private final String offeredSha256;

    public LogConflictException(String objectName, String storedSha256, String offeredSha256, String message) {
        super(message);
        this.objectName = objectName;
        this.storedSha256 = storedSha256;
        this.offeredSha256 = offeredSha256;
    }

    /** The storage name of the object, e.g. {@code wal/7312…/00000001/000000010000000000000003}. */
    public String objectName() {
        return objectName;
    }

    /** Hex SHA-256 of the content already stored. */
    public String storedSha256() {
        return storedSha256;
    }

    /** Hex SHA-256 of the content offered now. */
    public String offeredSha256() {
        return offeredSha256;
    }
}
