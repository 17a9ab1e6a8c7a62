package io.backupkit;

/**
 * A restore was refused because its target (a database, a data directory) already exists and
 * replacing it was not asked for. Nothing was changed. Restore under another name, or ask for the
 * replacement explicitly (for PostgreSQL: {@code PostgresTarget.builder().dropExisting()}).
 *
 * <pre>{@code
 * try {
 *     restoreManager.restore();
 * } catch (TargetExistsException e) {
 *     log.warn("{} exists, not touched", e.target());
 * }
 * }</pre>
 */
public class TargetExistsException extends ConfigurationException {
    private static final long serialVersionUID = 1L;
    private final String target;

    /**
     * @param target  what exists, for messages: for example {@code database shop on db1:5432}; no credentials
     * @param message the whole message, saying that nothing was changed and how to replace the target
     */
    public TargetExistsException(String target, String message) {
        super(message);
        this.target = target;
    }

    /** What already exists (for example {@code database shop on db1:5432}); never contains credentials. */
    public String target() {
        return target;
    }
}
