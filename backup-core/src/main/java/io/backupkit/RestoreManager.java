package io.backupkit;

import io.backupkit.internal.pipeline.RestoreRun;
import io.backupkit.spi.CommandExecutor;
import io.backupkit.spi.RestoreTarget;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Restores a snapshot into a target. Immutable and thread-safe once built.
 *
 * <pre>{@code
 * RestoreResult r = RestoreManager.builder()
 *         .repository(repo)
 *         .snapshot("latest")
 *         .target(PostgresTarget.builder().url("postgresql://localhost/shop_copy").build())
 *         .build()
 *         .restore();
 * }</pre>
 */
public final class RestoreManager {
    private final Repository repository;
    private final String snapshot;
    private final RestoreTarget target;
    private final int parallelism;
    private final boolean dryRun;
    private final List<ProgressListener> listeners;
    private final CommandExecutor commandExecutor;

    private RestoreManager(Builder b) {
        this.repository = Objects.requireNonNull(b.repository, "repository is required");
        this.target = Objects.requireNonNull(b.target, "target is required");
        this.snapshot = b.snapshot;
        this.parallelism = b.parallelism;
        this.dryRun = b.dryRun;
        this.listeners = List.copyOf(b.listeners);
        this.commandExecutor = b.commandExecutor == null ? new LocalCommandExecutor() : b.commandExecutor;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Restores (or, for a dry run, plans) and returns what was done. */
    public RestoreResult restore() {
        return new RestoreRun(repository, snapshot, target, parallelism, dryRun, listeners, commandExecutor).run();
    }

    /** The plan only; same as a dry run. */
    public RestorePlan plan() {
        return new RestoreRun(repository, snapshot, target, parallelism, true, listeners, commandExecutor).run().plan();
    }

    public static final class Builder {
        private Repository repository;
        private String snapshot = "latest";
        private RestoreTarget target;
        private int parallelism = Math.max(1, Runtime.getRuntime().availableProcessors());
        private boolean dryRun;
        private final List<ProgressListener> listeners = new ArrayList<>();
        private CommandExecutor commandExecutor;

        private Builder() {
        }

        public Builder repository(Repository repository) {
            this.repository = repository;
            return this;
        }

        /** Snapshot id, unique prefix, or "latest" (default). */
        public Builder snapshot(String idPrefixOrLatest) {
            this.snapshot = Objects.requireNonNull(idPrefixOrLatest);
            return this;
        }

        public Builder target(RestoreTarget target) {
            this.target = target;
            return this;
        }

        public Builder parallelism(int parallelism) {
            if (parallelism < 1) {
                throw new ConfigurationException("parallelism must be at least 1, was " + parallelism);
            }
            this.parallelism = parallelism;
            return this;
        }

        /** Plan only: {@link #restore()} returns the plan and changes nothing. */
        public Builder dryRun() {
            return dryRun(true);
        }

        public Builder dryRun(boolean dryRun) {
            this.dryRun = dryRun;
            return this;
        }

        public Builder listener(ProgressListener listener) {
            listeners.add(Objects.requireNonNull(listener));
            return this;
        }

        public Builder commandExecutor(CommandExecutor executor) {
            this.commandExecutor = executor;
            return this;
        }

        public RestoreManager build() {
            return new RestoreManager(this);
        }
    }
}
