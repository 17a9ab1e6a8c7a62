package io.backupkit;

/**
 * The operation lost its repository lock (it could not be refreshed in time, or another process
 * removed it) and stopped before its next write, so nothing it had not committed yet becomes visible.
 * A backup that fails this way leaves no snapshot; run it again.
 */
public class LockLostException extends BackupException {
    private static final long serialVersionUID = 1L;

    public LockLostException(String message) {
        super(message);
    }
}
