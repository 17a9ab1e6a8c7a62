package io.backupkit.cli;

import io.backupkit.BackupException;
import io.backupkit.ConfigurationException;
import io.backupkit.IntegrityException;
import io.backupkit.KeyException;
import picocli.CommandLine;

/**
 * The CLI's exit codes, a contract for scripts: 0 ok, 1 the operation failed, 2 usage or
 * configuration error, 3 verification or integrity failure (damaged data, wrong key or password,
 * a failed check).
 */
public final class ExitCodes {
    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int USAGE = 2;
    public static final int INTEGRITY = 3;

    private ExitCodes() {
    }

    /** The exit code for a failure: damage or a wrong key anywhere in the cause chain wins. */
    public static int of(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof IntegrityException || c instanceof KeyException || c instanceof VerificationFailedException) {
                return INTEGRITY;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof java.sql.SQLException) {
                // the database refused (no such database, login failed): the operation failed, the
                // command line was fine
                return FAILED;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof CommandLine.ParameterException || c instanceof ConfigurationException) {
                return USAGE;
            }
            if (c instanceof BackupException) {
                return FAILED;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return FAILED;
    }

    /** Thrown when a verification ran and at least one check failed. */
    static final class VerificationFailedException extends BackupException {
        private static final long serialVersionUID = 1L;

        VerificationFailedException(String message) {
            super(message);
        }
    }
}
