package io.backupkit;

import io.backupkit.internal.pipeline.BackupRun;
import io.backupkit.internal.pipeline.BlobWriter;
import io.backupkit.spi.BackupSource;
import io.backupkit.spi.CommandExecutor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Backs a database up into a repository. Immutable and thread-safe once built; each
 * {@link #backup()} writes one new snapshot, or none at all if it fails.
 *
 * <pre>{@code
 * BackupResult result = BackupManager.builder()
 *         .repository(repo)
 *         .source(PostgresSource.builder().url("postgresql://db/shop").user("backup").password(pw).build())
 *         .parallelism(4)
 *         .tag("env", "prod")
 *         .build()
 *         .backup();
 * log.info("snapshot {} stored {} new bytes", result.snapshot().shortId(), result.bytesStored());
 * }</pre>
 */
public final class BackupManager {
    private final Repository repository;
    private final BackupSource source;
    private final int parallelism;
    private final List<ProgressListener> listeners;
    private final Map<String, String> tags;
    private final CommandExecutor commandExecutor;
    private final BlobWriter.Checkpoints checkpoints;

    private BackupManager(Builder b) {
        this.repository = Objects.requireNonNull(b.repository, "repository is required");
        this.source = Objects.requireNonNull(b.source, "source is required");
        this.parallelism = b.parallelism;
        this.listeners = List.copyOf(b.listeners);
        this.tags = Map.copyOf(b.tags);
        this.commandExecutor = b.commandExecutor == null ? new LocalCommandExecutor() : b.commandExecutor;
        this.checkpoints = b.checkpoints;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Runs the backup: streams the source into the repository and writes the snapshot manifest last.
     *
     * @throws BackupException on failure; no snapshot is listed afterwards
     */
    public BackupResult backup() {
        return new BackupRun(repository, source, parallelism, listeners, tags, commandExecutor, checkpoints).run();
    }

    public Builder toBuilder() {
        Builder b = new Builder().repository(repository).source(source).parallelism(parallelism)
                .commandExecutor(commandExecutor).indexCheckpoints(checkpoints.packs(), checkpoints.interval());
        listeners.forEach(b::listener);
        tags.forEach(b::tag);
        return b;
    }

    public static final class Builder {
        private Repository repository;
        private BackupSource source;
        private int parallelism = Math.max(1, Runtime.getRuntime().availableProcessors());
        private final List<ProgressListener> listeners = new ArrayList<>();
        private final Map<String, String> tags = new LinkedHashMap<>();
        private CommandExecutor commandExecutor;
        private BlobWriter.Checkpoints checkpoints = BlobWriter.Checkpoints.DEFAULT;

        private Builder() {
        }

        /**
         * How often a running backup indexes the packs it stored so far (default: every 64 packs or 10
         * minutes, whichever comes first). A backup that fails or is killed leaves indexed packs, which
         * the next backup reuses instead of uploading them again: rerunning a backup that died at 90 %
         * uploads about the last 10 %.
         */
        public Builder indexCheckpoints(int packs, java.time.Duration interval) {
            try {
                this.checkpoints = new BlobWriter.Checkpoints(packs, Objects.requireNonNull(interval));
            } catch (IllegalArgumentException e) {
                throw new ConfigurationException(e.getMessage());
            }
            return this;
        }

        public Builder repository(Repository repository) {
            this.repository = repository;
            return this;
        }

        /** What to back up: a {@link BackupSource} of an engine module (PostgresSource, …). */
        public Builder source(BackupSource source) {
            this.source = source;
            return this;
        }

        /** Streams written and blobs processed at once (default: number of CPUs). */
        public Builder parallelism(int parallelism) {
            if (parallelism < 1) {
                throw new ConfigurationException("parallelism must be at least 1, was " + parallelism);
            }
            this.parallelism = parallelism;
            return this;
        }

        public Builder listener(ProgressListener listener) {
            listeners.add(Objects.requireNonNull(listener));
            return this;
        }

        public Builder tag(String key, String value) {
            if (key == null || key.isBlank()) {
                throw new ConfigurationException("tag key must not be blank");
            }
            tags.put(key, Objects.requireNonNull(value, "tag value"));
            return this;
        }

        /** Where the source runs its tools (default: local processes). */
        public Builder commandExecutor(CommandExecutor executor) {
            this.commandExecutor = executor;
            return this;
        }

        public BackupManager build() {
            return new BackupManager(this);
        }
    }
}
