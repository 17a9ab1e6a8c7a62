package io.backupkit;

import io.backupkit.internal.pipeline.VerifyRun;
import io.backupkit.spi.CommandExecutor;
import io.backupkit.spi.RestoreTarget;

import java.util.Objects;

/**
 * Proves a snapshot can be restored. {@link VerificationLevel#QUICK} checks that every blob is
 * present, {@link VerificationLevel#STANDARD} reads and checks every byte,
 * {@link VerificationLevel#COMPREHENSIVE} also restores into a scratch target and compares.
 *
 * <pre>{@code
 * VerificationReport report = Verifier.builder()
 *         .repository(repo)
 *         .snapshot("latest")
 *         .level(VerificationLevel.COMPREHENSIVE)
 *         .scratchTarget(PostgresTarget.builder().url("postgresql://localhost/postgres").build())
 *         .build()
 *         .verify();
 * if (!report.passed()) alert(report.failures());
 * }</pre>
 */
public final class Verifier {
    private final Repository repository;
    private final String snapshot;
    private final VerificationLevel level;
    private final RestoreTarget scratchTarget;
    private final int parallelism;
    private final CommandExecutor commandExecutor;

    private Verifier(Builder b) {
        this.repository = Objects.requireNonNull(b.repository, "repository is required");
        this.snapshot = b.snapshot;
        this.level = b.level;
        this.scratchTarget = b.scratchTarget;
        this.parallelism = b.parallelism;
        this.commandExecutor = b.commandExecutor == null ? new LocalCommandExecutor() : b.commandExecutor;
        if (level == VerificationLevel.COMPREHENSIVE && scratchTarget == null) {
            throw new ConfigurationException("COMPREHENSIVE verification needs a scratchTarget to restore into");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Runs the checks; never throws for damaged data, reports it instead. */
    public VerificationReport verify() {
        return new VerifyRun(repository, snapshot, level, scratchTarget, parallelism, commandExecutor).run();
    }

    public static final class Builder {
        private Repository repository;
        private String snapshot = "latest";
        private VerificationLevel level = VerificationLevel.STANDARD;
        private RestoreTarget scratchTarget;
        private int parallelism = Math.max(1, Runtime.getRuntime().availableProcessors());
        private CommandExecutor commandExecutor;

        private Builder() {
        }

        public Builder repository(Repository repository) {
            this.repository = repository;
            return this;
        }

        public Builder snapshot(String idPrefixOrLatest) {
            this.snapshot = Objects.requireNonNull(idPrefixOrLatest);
            return this;
        }

        public Builder level(VerificationLevel level) {
            this.level = Objects.requireNonNull(level);
            return this;
        }

        /** Where COMPREHENSIVE verification restores to; the engine creates and drops a scratch database there. */
        public Builder scratchTarget(RestoreTarget target) {
            this.scratchTarget = target;
            return this;
        }

        public Builder parallelism(int parallelism) {
            if (parallelism < 1) {
                throw new ConfigurationException("parallelism must be at least 1, was " + parallelism);
            }
            this.parallelism = parallelism;
            return this;
        }

        public Builder commandExecutor(CommandExecutor executor) {
            this.commandExecutor = executor;
            return this;
        }

        public Verifier build() {
            return new Verifier(this);
        }
    }
}
