package io.backupkit;

import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.RepositoryAnalysis;

import java.util.Objects;

/**
 * Sizes of a repository: raw, deduplicated and stored bytes, and per snapshot what it holds and what
 * forgetting it would free. Reads the index and the snapshots' blob lists, no data.
 *
 * <pre>{@code
 * StatsReport s = Statistics.builder().repository(repo).build().compute();
 * log.info("{} snapshots, {} raw, {} stored", s.snapshotCount(), s.rawBytes(), s.storedBytes());
 * }</pre>
 */
public final class Statistics {
    private final Repository repository;
    private final String snapshot;

    private Statistics(Builder b) {
        this.repository = Objects.requireNonNull(b.repository, "repository is required");
        this.snapshot = b.snapshot;
    }

    public static Builder builder() {
        return new Builder();
    }

    public StatsReport compute() {
        if (!(repository instanceof DefaultRepository d)) {
            throw new ConfigurationException("repository must come from Repository.builder()");
        }
        return RepositoryAnalysis.stats(d, snapshot);
    }

    /** Configures {@link Statistics}. */
    public static final class Builder {
        private Repository repository;
        private String snapshot;

        private Builder() {
        }

        public Builder repository(Repository repository) {
            this.repository = repository;
            return this;
        }

        /** Report only this snapshot (id, prefix or "latest"); the repository totals are always computed. */
        public Builder snapshot(String idPrefixOrLatest) {
            this.snapshot = idPrefixOrLatest;
            return this;
        }

        public Statistics build() {
            return new Statistics(this);
        }
    }
}
