package io.backupkit;

/** The caller's setup is wrong: a missing option, an unknown codec, an ambiguous plug-in, bad input. */
public class ConfigurationException extends BackupException {
    private static final long serialVersionUID = 1L;

    public ConfigurationException(String message) {
        super(message);
    }

    public ConfigurationException(String message, Throwable cause) {
        super(message, cause);
    }
}
