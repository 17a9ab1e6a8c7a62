package io.backupkit.mysql;

import io.backupkit.ConfigurationException;
import io.backupkit.RestorePlan;
import io.backupkit.VerificationCheck;
import io.backupkit.Repository;
import io.backupkit.Snapshot;
import io.backupkit.mysql.internal.BinlogReplay;
import io.backupkit.mysql.internal.LogicalLoad;
import io.backupkit.mysql.internal.SnapshotModel;
import io.backupkit.mysql.internal.MySqlConnectionConfig;
import io.backupkit.spi.RestoreContext;
import io.backupkit.spi.RestoreTarget;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Restores a MySQL snapshot into a server: a database snapshot into the URL's database (created; a
 * different name than the source's is fine), a whole-server snapshot into a server URL without a
 * database (every database keeps its name). A database that exists is refused, untouched
 * ({@link io.backupkit.TargetExistsException}), unless {@link Builder#dropExisting()} is set; then
 * the snapshot is restored beside it and swapped in only once complete.
 *
 * <pre>{@code
 * RestoreManager.builder()
 *         .repository(repo)
 *         .snapshot("latest")
 *         .target(MySqlTarget.builder().url("mariadb://root@db2:3306/shop_copy").password(pw).build())
 *         .build()
 *         .restore();
 * }</pre>
 */
public final class MySqlTarget implements RestoreTarget {
    private final MySqlConnectionConfig cfg;
    private final LogicalLoad.LoadOptions options;
    private final BinlogRecoveryTarget recoverTo;
    private final String binlogSource;
    private final java.nio.file.Path toolDirectory;

    private MySqlTarget(Builder b) {
        if (b.url == null) {
            throw new ConfigurationException("MySqlTarget needs a url (mysql://user@host:port/db or mariadb://…)");
        }
        MySqlConnectionConfig c = MySqlConnectionConfig.parse(b.url);
        if (b.user != null) {
            c = c.withUser(b.user);
        }
        if (b.password != null) {
            c = c.withPassword(b.password);
        }
        if (b.database != null) {
            c = c.withDatabase(b.database.isEmpty() ? null : b.database);
        }
        if (c.user() == null) {
            c = c.withUser("root");
        }
        this.cfg = c;
        this.options = new LogicalLoad.LoadOptions(b.dropExisting, b.tables, b.schemaOnly, b.users, b.jobs, b.lockWaitTimeout, b.useInserts);
        this.recoverTo = b.recoverTo;
        this.binlogSource = b.binlogSource;
        this.toolDirectory = b.toolDirectory;
        if (recoverTo != null && (b.schemaOnly || !b.tables.isEmpty())) {
            throw new ConfigurationException("a point-in-time restore replays whole databases; it cannot be combined with schemaOnly() or tables()");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String engine() {
        return MySqlEngine.NAME;
    }

    @Override
    public String describe() {
        return new LogicalLoad(cfg, options).describeTarget();
    }

    @Override
    public RestorePlan plan(RestoreContext context) {
        return new LogicalLoad(cfg, options).plan(context, replay(context));
    }

    @Override
    public void restore(RestoreContext context) {
        new LogicalLoad(cfg, options).restore(context, replay(context));
    }

    private BinlogReplay replay(RestoreContext context) {
        return recoverTo == null ? null : new BinlogReplay(context, cfg, recoverTo, binlogSource, toolDirectory);
    }

    /**
     * The snapshot "latest" stands for: the newest MySQL snapshot; with a recovery target, the newest
     * one with binary log coordinates taken before the target.
     */
    @Override
    public Snapshot latest(Repository repository, List<Snapshot> snapshots) {
        List<Snapshot> mine = snapshots.stream().filter(x -> MySqlEngine.NAME.equals(x.engine())).toList();
        if (mine.isEmpty()) {
            throw new ConfigurationException("repository " + repository.location() + " has no MySQL snapshots"
                    + (snapshots.isEmpty() ? "" : " (it has " + snapshots.size() + " of other engines)"));
        }
        if (recoverTo == null) {
            return mine.get(mine.size() - 1);
        }
        Snapshot best = null;
        for (Snapshot x : mine) {
            SnapshotModel m;
            try {
                m = SnapshotModel.of(x);
            } catch (RuntimeException e) {
                continue;
            }
            Optional<BinlogPosition> pos = m.binlogPosition();
            if (pos.isEmpty() || (binlogSource != null && !binlogSource.equals(BinlogReplay.sourceOf(m, null)))) {
                continue;
            }
            Object st = x.metadata().get("snapshotTime");
            Instant taken = st == null ? x.time() : Instant.parse(st.toString());
            boolean fits = switch (recoverTo.kind()) {
                case TIME -> !taken.isAfter(recoverTo.time());
                case POSITION -> pos.get().baseName().equals(recoverTo.position().baseName()) && pos.get().compareTo(recoverTo.position()) <= 0;
                case LATEST -> true;
            };
            if (fits && (best == null || !taken.isBefore(Instant.parse(String.valueOf(best.metadata().getOrDefault("snapshotTime",
                    best.time().toString())))))) {
                best = x;
            }
        }
        if (best == null) {
            throw new ConfigurationException("no MySQL snapshot with binary log coordinates in " + repository.location()
                    + " was taken before the recovery target (" + recoverTo + ")");
        }
        return best;
    }

    @Override
    public List<VerificationCheck> verifyByRestore(RestoreContext context) {
        return new LogicalLoad(cfg, options).verifyByRestore(context);
    }

    @Override
    public String toString() {
        return "MySqlTarget[" + cfg.describe() + "]";
    }

    /** Configures a {@link MySqlTarget}. */
    public static final class Builder {
        private String url;
        private String user;
        private char[] password;
        private String database;
        private boolean dropExisting;
        private final List<String> tables = new ArrayList<>();
        private boolean schemaOnly;
        private boolean users;
        private int jobs;
        private boolean useInserts;
        private Duration lockWaitTimeout = Duration.ofSeconds(60);
        private BinlogRecoveryTarget recoverTo;
        private String binlogSource;
        private java.nio.file.Path toolDirectory;

        private Builder() {
        }

        /**
         * Point-in-time recovery: after restoring the snapshot, replay the archived binary logs (see
         * {@link BinlogArchive}, {@link BinlogReceiver}) from the snapshot's position to {@code target}.
         * With snapshot "latest", the restore picks the newest snapshot taken before the target.
         */
        public Builder recoverTo(BinlogRecoveryTarget target) {
            this.recoverTo = target;
            return this;
        }

        /** The binary log archive source to replay (default: the one named after the snapshot's server). */
        public Builder binlogSource(String source) {
            this.binlogSource = source;
            return this;
        }

        /** Directory holding mariadb-binlog and mariadb (or mysqlbinlog and mysql) for point-in-time recovery (default: the PATH). */
        public Builder toolDirectory(java.nio.file.Path dir) {
            this.toolDirectory = dir;
            return this;
        }

        /** {@code mysql://[user@]host[:port][/db]} or {@code mariadb://…}; without a database for a whole-server snapshot. */
        public Builder url(String url) {
            this.url = Objects.requireNonNull(url);
            return this;
        }

        public Builder user(String user) {
            this.user = user;
            return this;
        }

        /** Password (copied; never logged or shown). */
        public Builder password(char[] password) {
            this.password = password == null ? null : password.clone();
            return this;
        }

        /** The database to restore into, overriding the URL's. */
        public Builder database(String database) {
            this.database = database;
            return this;
        }

        /** Replace databases that exist (restored beside them first, swapped in when complete). */
        public Builder dropExisting() {
            this.dropExisting = true;
            return this;
        }

        /** Restore only these tables ("table" or "database.table") with their triggers; no views, routines or events. */
        public Builder tables(String... names) {
            return tables(List.of(names));
        }

        public Builder tables(List<String> names) {
            for (String n : names) {
                if (n == null || n.isBlank()) {
                    throw new ConfigurationException("a table name must not be blank");
                }
                tables.add(n.strip());
            }
            return this;
        }

        /** Tables and other objects without rows. */
        public Builder schemaOnly() {
            this.schemaOnly = true;
            return this;
        }

        /** Also restore the snapshot's user accounts the target lacks (existing ones are left alone). */
        public Builder users() {
            this.users = true;
            return this;
        }

        /** Parallel loading sessions (default: the restore's parallelism). */
        public Builder jobs(int jobs) {
            if (jobs < 1) {
                throw new ConfigurationException("jobs must be at least 1, was " + jobs);
            }
            this.jobs = jobs;
            return this;
        }

        /** Load rows with INSERT statements even where LOAD DATA LOCAL is allowed (slower; for servers that log it). */
        public Builder useInserts() {
            this.useInserts = true;
            return this;
        }

        /** How long a session waits for a lock (default 60 s). */
        public Builder lockWaitTimeout(Duration timeout) {
            if (timeout == null || timeout.isNegative() || timeout.isZero()) {
                throw new ConfigurationException("lockWaitTimeout must be positive");
            }
            this.lockWaitTimeout = timeout;
            return this;
        }

        public MySqlTarget build() {
            return new MySqlTarget(this);
        }
    }
}
