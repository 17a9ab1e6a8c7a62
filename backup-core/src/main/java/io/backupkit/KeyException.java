package io.backupkit;

/** No key slot of the repository opens with the given password, key file or KMS key. */
public class KeyException extends BackupException {
    private static final long serialVersionUID = 1L;

    public KeyException(String message) {
        super(message);
    }
}
