package io.backupkit.cli;

import io.backupkit.IntegrityException;
import io.backupkit.KeyException;
import io.backupkit.RepositoryLockedException;

/** One-line explanations of failures for people, with the next step where there is an obvious one. */
final class Errors {
    private Errors() {
    }

    static String message(Throwable t) {
        String m = t.getMessage();
        if (m == null || m.isBlank()) {
            m = t.getClass().getSimpleName();
        }
        if (t instanceof KeyException) {
            return m + " (check BACKUPKIT_PASSWORD, --password-file or --key-file)";
        }
        if (t instanceof IntegrityException) {
            return "repository data is damaged: " + m;
        }
        if (t instanceof RepositoryLockedException l && l.stale()) {
            return m + " (the lock looks stale; its holder " + l.holder() + " is probably gone)";
        }
        return m;
    }
}
