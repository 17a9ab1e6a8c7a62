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

    /** Where commands run, for messages ("local", "pod db-0 in namespace prod"). */
    default String describe() {
        return getClass().getSimpleName();
    }
}
