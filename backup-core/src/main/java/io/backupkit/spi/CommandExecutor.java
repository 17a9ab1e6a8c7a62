package io.backupkit.spi;

/**
 * Where engine tools (pg_dump, pg_restore, …) run: a local process by default
 * ({@link io.backupkit.LocalCommandExecutor}), a Kubernetes pod with backup-k8s.
 */
public interface CommandExecutor {

    /**
     * Starts a process.
     *
     * @throws io.backupkit.EngineException when the program cannot be started (not found, not executable)
     */
    RunningCommand start(CommandSpec spec);

    /**
     * Whether commands run as processes of this host, so one may sit idle for a long time (a Kubernetes
     * exec session, or any other remote session, meets idle and command timeouts). Engines start some
     * commands early only where this holds. Default false.
     */
    default boolean local() {
        return false;
    }

    /** Where commands run, for messages ("local", "pod db-0 in namespace prod"). */
    default String describe() {
        return getClass().getSimpleName();
    }
}
