package io.backupkit.postgres;

import io.backupkit.ConfigurationException;
import io.backupkit.Repository;
import io.backupkit.RestorePlan;
import io.backupkit.Snapshot;
import io.backupkit.VerificationCheck;
import io.backupkit.postgres.internal.physical.PhysicalMetadata;
import io.backupkit.postgres.internal.physical.PhysicalRestore;
import io.backupkit.postgres.internal.physical.PhysicalVerification;
import io.backupkit.postgres.internal.physical.RestoreOptions;
import io.backupkit.postgres.internal.physical.SnapshotChooser;
import io.backupkit.spi.RestoreContext;
import io.backupkit.spi.RestoreTarget;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Restores a physical snapshot (a base backup) into an empty data directory, ready to recover to a
 * point in time on a plain {@code pg_ctl start}: the files, {@code recovery.signal}, the recovery
 * settings and a {@code restore_command} in {@code postgresql.auto.conf}, archiving switched off.
 *
 * <p>Before writing anything it checks that the directory (and each tablespace's) is empty, and that
 * the archived WAL reaches the target: a target before the backup's end, outside the recoverable
 * window (the message says the window), behind a missing segment (named), or on a timeline that
 * forked off before the backup was consistent is refused. With snapshot "latest" the newest base
 * backup that ends before the target, on a timeline that leads to it, is chosen.
 *
 * <p>The generated {@code restore_command} needs nothing in the server's environment: it lives in a
 * helper directory beside the data directory ({@code <pgdata>.backupkit}, the server user's only),
 * with copies of the jars it runs, a new key file and a key slot for it in the repository, and the WAL
 * the restore staged. Its README says how to remove it (and the key slot) once the server promoted.
 *
 * <pre>{@code
 * RestoreManager.builder().repository(repo).snapshot("latest")
 *         .target(PostgresDataDirectoryTarget.builder()
 *                 .pgdata(Path.of("/var/lib/postgresql/15/restored"))
 *                 .recoveryTarget(RecoveryTarget.time("2026-11-22 14:32:00+01"))
 *                 .targetAction(RecoveryTargetAction.PROMOTE)
 *                 .build())
 *         .build().restore();
 * // then: pg_ctl -D /var/lib/postgresql/15/restored start
 * }</pre>
 */
public final class PostgresDataDirectoryTarget implements RestoreTarget {
    private final RestoreOptions options;
    private final RecoveryTarget target;
    private final Path scratchParent;

    private PostgresDataDirectoryTarget(Builder b) {
        if (b.pgdata == null && b.scratchParent == null) {
            throw new ConfigurationException("PostgresDataDirectoryTarget needs the data directory to restore into (pgdata)");
        }
        this.target = b.target;
        this.scratchParent = b.scratchParent;
        Path pgdata = b.pgdata != null ? b.pgdata.toAbsolutePath().normalize() : null;
        this.options = new RestoreOptions(pgdata, b.target.type().name(), b.target.settings(), b.target.toString(), b.target.time(),
                b.target.lsn() == null ? null : Lsn.parse(b.target.lsn()), b.action == null ? null : b.action.setting(), b.timeline,
                Map.copyOf(b.mappings), b.osUser, b.restoreCommand, b.archiving, b.stageWal, b.helperDirectory, b.javaExecutable,
                List.copyOf(b.classpath), b.toolDirectory);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String engine() {
        return PostgresEngine.NAME;
    }

    @Override
    public String describe() {
        return options.pgdata() != null ? "data directory " + options.pgdata() : "scratch data directories in " + scratchParent;
    }

    /** The recovery target. */
    public RecoveryTarget recoveryTarget() {
        return target;
    }

    /**
     * The newest physical base backup that can reach the recovery target: it ended before the target
     * (time or LSN) and lies on a timeline that leads to the target timeline.
     */
    @Override
    public Snapshot latest(Repository repository, List<Snapshot> snapshots) {
        return SnapshotChooser.choose(repository, snapshots, options);
    }

    @Override
    public RestorePlan plan(RestoreContext context) {
        requirePgdata();
        return new PhysicalRestore(options).plan(context);
    }

    @Override
    public void restore(RestoreContext context) {
        requirePgdata();
        new PhysicalRestore(options).restore(context);
    }

    /**
     * Restores into a scratch directory, starts a throwaway server on a free port (as the server's OS
     * user), waits until it is consistent, runs {@code pg_amcheck} on every database, stops it and
     * removes the directory.
     */
    @Override
    public List<VerificationCheck> verifyByRestore(RestoreContext context) {
        PhysicalMetadata.of(context.snapshot());
        Path parent = scratchParent != null ? scratchParent : Path.of(System.getProperty("java.io.tmpdir"));
        return new PhysicalVerification(parent, options).verify(context);
    }

    private void requirePgdata() {
        if (options.pgdata() == null) {
            throw new ConfigurationException("this target only verifies (scratchDirectory); give pgdata to restore");
        }
    }

    @Override
    public String toString() {
        return "PostgresDataDirectoryTarget[" + describe() + ", " + target + "]";
    }

    /** Configures a {@link PostgresDataDirectoryTarget}. Not thread-safe. */
    public static final class Builder {
        private Path pgdata;
        private RecoveryTarget target = RecoveryTarget.latest();
        private RecoveryTargetAction action;
        private String timeline = "latest";
        private final Map<String, Path> mappings = new LinkedHashMap<>();
        private String osUser;
        private String restoreCommand;
        private boolean archiving;
        private boolean stageWal = true;
        private Path helperDirectory;
        private Path javaExecutable;
        private final List<Path> classpath = new ArrayList<>();
        private Path toolDirectory;
        private Path scratchParent;

        private Builder() {
        }

        /** The data directory to restore into: missing or empty (anything else is refused, untouched). */
        public Builder pgdata(Path dir) {
            this.pgdata = Objects.requireNonNull(dir, "pgdata");
            return this;
        }

        /** Where recovery stops (default {@link RecoveryTarget#latest()}). */
        public Builder recoveryTarget(RecoveryTarget target) {
            this.target = Objects.requireNonNull(target, "target");
            return this;
        }

        /** What the server does at the target (default: PostgreSQL's, pause). Ignored for latest. */
        public Builder targetAction(RecoveryTargetAction action) {
            this.action = action;
            return this;
        }

        /** The timeline to recover along: "latest" (default), "current" (the backup's) or a number. */
        public Builder timeline(String timeline) {
            this.timeline = Objects.requireNonNull(timeline, "timeline");
            return this;
        }

        /** Restores a tablespace elsewhere: {@code from} is its old location, name or oid. */
        public Builder tablespaceMapping(String from, Path to) {
            if (!to.isAbsolute()) {
                throw new ConfigurationException("tablespace mapping target must be an absolute path, was " + to);
            }
            mappings.put(Objects.requireNonNull(from, "from"), to);
            return this;
        }

        /** The OS user the server runs as, who owns the restored files (default: this JVM's user; "postgres" when it is root). */
        public Builder osUser(String user) {
            this.osUser = user;
            return this;
        }

        /** Your own restore_command instead of the generated one (then no key slot, helper directory or staging). */
        public Builder restoreCommand(String command) {
            this.restoreCommand = command;
            return this;
        }

        /** Keep the source's archive settings in the restored copy (default: archive_mode = off). */
        public Builder archiving(boolean keep) {
            this.archiving = keep;
            return this;
        }

        /** Fetch the archived WAL recovery needs during the restore, in parallel (default true). */
        public Builder stageWal(boolean stage) {
            this.stageWal = stage;
            return this;
        }

        /** Where the generated restore_command, its key and the staged WAL go (default: {@code <pgdata>.backupkit}). */
        public Builder restoreCommandDirectory(Path dir) {
            this.helperDirectory = dir;
            return this;
        }

        /** The java the generated restore_command runs (default: this JVM's). */
        public Builder javaExecutable(Path java) {
            this.javaExecutable = java;
            return this;
        }

        /** Jars and class directories the generated restore_command runs with (default: found from this JVM). */
        public Builder restoreCommandClasspath(List<Path> entries) {
            classpath.clear();
            classpath.addAll(entries);
            return this;
        }

        /** PostgreSQL server binaries (pg_ctl, postgres, pg_amcheck) for verification (default: the newest local ones). */
        public Builder toolDirectory(Path dir) {
            this.toolDirectory = dir;
            return this;
        }

        /** For verification only: where throwaway data directories are made (default: java.io.tmpdir). */
        public Builder scratchDirectory(Path parent) {
            this.scratchParent = parent;
            return this;
        }

        public PostgresDataDirectoryTarget build() {
            return new PostgresDataDirectoryTarget(this);
        }
    }
}
