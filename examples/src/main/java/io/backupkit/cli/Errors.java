package io.backupkit.cli;

import io.backupkit.ChecksumMismatchException;
import io.backupkit.IntegrityException;
import io.backupkit.KeyException;
import io.backupkit.KeyRequiredException;
import io.backupkit.RepositoryLockedException;
import io.backupkit.TargetExistsException;

/**
 * One-line explanations of failures for people, with the next step where there is an obvious one.
 * Decisions are made on exception types only, never on message text: the library words its messages
 * for its API (for example {@code dropExisting()}), the CLI says the option instead.
 */
final class Errors {
    private Errors() {
    }

    static String message(Throwable t) {
        KeyRequiredException keyRequired = find(t, KeyRequiredException.class);
        if (keyRequired != null) {
            return "repository " + keyRequired.location() + " is encrypted: set BACKUPKIT_PASSWORD, or give --password-file FILE"
                    + " or --key-file FILE";
        }
        TargetExistsException exists = find(t, TargetExistsException.class);
        if (exists != null) {
            return exists.target() + " already exists; refusing to restore over it (nothing was changed). Restore into a new"
                    + " database name, or add --drop-existing (and --yes without a terminal) to replace it";
        }
        String m = t.getMessage();
        if (m == null || m.isBlank()) {
            m = t.getClass().getSimpleName();
        }
        if (t instanceof KeyException) {
            return m + " (check BACKUPKIT_PASSWORD, --password-file or --key-file)";
        }
        ChecksumMismatchException checksum = find(t, ChecksumMismatchException.class);
        if (checksum != null) {
            return "data read from the repository failed its " + checksum.algorithm() + " check: " + checksum.getMessage()
                    + " (if it happens again, run 'backupkit verify')";
        }
        if (t instanceof IntegrityException) {
            return "repository data is damaged: " + m;
        }
        if (t instanceof RepositoryLockedException l && l.stale()) {
            return m + " (the lock looks stale; its holder " + l.holder() + " is probably gone)";
        }
        return m;
    }

    /** The first exception of {@code type} in the cause chain of {@code t}, or null. */
    static <T extends Throwable> T find(Throwable t, Class<T> type) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (type.isInstance(c)) {
                return type.cast(c);
            }
        }
        return null;
    }
}
