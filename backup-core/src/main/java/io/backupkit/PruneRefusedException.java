package io.backupkit;

/**
 * Prune cannot run safely now (a host's clock is too far from the storage's, the storage keeps no object
 * times, …) and deleted nothing. The message says why and, where another process is the reason, which
 * one ({@link #holder()}).
 */
public class PruneRefusedException extends BackupException {
    private static final long serialVersionUID = 1L;
    private final String holder;

    public PruneRefusedException(String message, String holder) {
        super(message);
        this.holder = holder;
    }

    /** The process that is the reason (operation, host, pid), or null. */
    public String holder() {
        return holder;
    }
}
