package io.backupkit.mysql;

import io.backupkit.ConfigurationException;
import io.backupkit.RestorePlan;
import io.backupkit.VerificationCheck;
import io.backupkit.mysql.internal.LogicalLoad;
import io.backupkit.mysql.internal.MySqlConnectionConfig;
import io.backupkit.spi.RestoreContext;
import io.backupkit.spi.RestoreTarget;

import java.time.Duration;
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
        return new LogicalLoad(cfg, options).plan(context, null);
    }

    @Override
    public void restore(RestoreContext context) {
        new LogicalLoad(cfg, options).restore(context, null);
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

        private Builder() {
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
