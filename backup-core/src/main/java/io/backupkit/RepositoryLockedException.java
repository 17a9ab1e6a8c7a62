package io.backupkit;

import java.time.Duration;

/** Another process holds a conflicting lock on the repository. */
public class RepositoryLockedException extends BackupException {
    private static final long serialVersionUID = 1L;
    private final String holder;
    private final Duration age;
    private final boolean stale;

    public RepositoryLockedException(String message, String holder, Duration age, boolean stale) {
        super(message);
        this.holder = holder;
        this.age = age;
        this.stale = stale;
    }

    /** Who holds the lock: host, process id and operation. */
    public String holder() {
        return holder;
    }

    public Duration age() {
        return age;
    }

    /** True when the lock was not refreshed in time and its holder is probably gone. */
    public boolean stale() {
        return stale;
    }
}
