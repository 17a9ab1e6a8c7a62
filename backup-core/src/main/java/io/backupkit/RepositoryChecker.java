package io.backupkit;

import io.backupkit.internal.repo.DefaultRepository;
import io.backupkit.internal.repo.ReadDataCheck;

import java.util.Objects;
import java.util.function.Consumer;

/**
 * Checks a repository: its structure (as {@link Repository#check()}), and with
 * {@link Builder#readData(boolean)} every blob of every pack — read, authenticated, decompressed and
 * hashed against its id, and compared with what the index says about it — or with
 * {@link Builder#readDataSubset(double)} a random share of the packs, so a schedule can read the whole
 * repository over several runs. Damage becomes errors in the report, not exceptions.
 *
 * <pre>{@code
 * CheckReport r = RepositoryChecker.builder().repository(repo).readDataSubset(0.1).build().check();
 * if (!r.ok()) alert(r.errors());
 * }</pre>
 */
public final class RepositoryChecker {
    private final Repository repository;
    private final double share;
    private final long seed;
    private final int parallelism;
    private final Consumer<String> progress;

    private RepositoryChecker(Builder b) {
        this.repository = Objects.requireNonNull(b.repository, "repository is required");
        this.share = b.share;
        this.seed = b.seed;
        this.parallelism = b.parallelism;
        this.progress = b.progress;
    }

    public static Builder builder() {
        return new Builder();
    }

    public CheckReport check() {
        CheckReport structure = repository.check();
        if (share <= 0) {
            return structure;
        }
        if (!(repository instanceof DefaultRepository d)) {
            throw new ConfigurationException("repository must come from Repository.builder()");
        }
        return new ReadDataCheck(d, share, seed, parallelism, progress).run(structure);
    }

    /** Configures a {@link RepositoryChecker}. */
    public static final class Builder {
        private Repository repository;
        private double share;
        private long seed = System.nanoTime();
        private int parallelism = 2;
        private Consumer<String> progress = s -> { };

        private Builder() {
        }

        public Builder repository(Repository repository) {
            this.repository = repository;
            return this;
        }

        /** Read and check every pack (restic's {@code --read-data}). */
        public Builder readData(boolean all) {
            this.share = all ? 1.0 : 0.0;
            return this;
        }

        /** Read and check a random share of the packs (0 to 1, e.g. 0.1 for 10 %). */
        public Builder readDataSubset(double share) {
            if (!(share > 0 && share <= 1)) {
                throw new ConfigurationException("the share of packs to read must be more than 0 % and at most 100 %, was "
                        + Math.round(share * 10000) / 100.0 + " %");
            }
            this.share = share;
            return this;
        }

        /** Seed of the random subset (default: a new one each time). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Packs read at once (default 2). */
        public Builder parallelism(int n) {
            if (n < 1) {
                throw new ConfigurationException("parallelism must be at least 1, was " + n);
            }
            this.parallelism = n;
            return this;
        }

        /** Receives a line now and then ("read 120 of 400 packs"). */
        public Builder progress(Consumer<String> progress) {
            this.progress = Objects.requireNonNull(progress);
            return this;
        }

        public RepositoryChecker build() {
            return new RepositoryChecker(this);
        }
    }
}
