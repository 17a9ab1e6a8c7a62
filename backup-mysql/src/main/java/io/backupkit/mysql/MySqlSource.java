package io.backupkit.mysql;

import io.backupkit.ConfigurationException;
import io.backupkit.mysql.internal.LogicalDump;
import io.backupkit.mysql.internal.MySqlConnectionConfig;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.BackupSource;

import java.time.Duration;
import java.util.Objects;

/**
 * Backs up one MySQL/MariaDB database, or every database of a server, as a consistent logical
 * snapshot read by several sessions in parallel (see {@link MySqlEngine}): one stream per table, the
 * schema (tables, views, routines, triggers, events, sequences) per database, user accounts and
 * grants on request, and the binary log coordinates of the snapshot's instant for point-in-time
 * recovery.
 *
 * <pre>{@code
 * BackupSource source = MySqlSource.builder()
 *         .url("mariadb://backup@db1:3306/shop")     // no database: the whole server
 *         .password(secret)
 *         .jobs(4)
 *         .build();
 * BackupManager.builder().repository(repo).source(source).build().backup();
 * }</pre>
 *
 * <p>The backup user needs SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES and, for parallel reads
 * from one instant, RELOAD (without it one session reads every table); REPLICATION CLIENT (MySQL) or
 * BINLOG MONITOR (MariaDB 10.5+) to record binary log coordinates; SELECT on mysql.user for users.
 */
public final class MySqlSource implements BackupSource {
    private final MySqlConnectionConfig cfg;
    private final LogicalDump.DumpOptions options;

    private MySqlSource(Builder b) {
        if (b.url == null) {
            throw new ConfigurationException("MySqlSource needs a url (mysql://user@host:port/db or mariadb://…)");
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
        this.options = new LogicalDump.DumpOptions(b.jobs, b.lock, b.lockNonTransactional, b.users, b.lockWaitTimeout);
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
        return cfg.describe();
    }

    @Override
    public void backup(BackupContext context) {
        new LogicalDump(cfg, options).run(context);
    }

    @Override
    public String toString() {
        return "MySqlSource[" + cfg.describe() + "]";
    }

    /** Configures a {@link MySqlSource}. */
    public static final class Builder {
        private String url;
        private String user;
        private char[] password;
        private String database;
        private int jobs;
        private boolean lock = true;
        private boolean lockNonTransactional = true;
        private boolean users;
        private Duration lockWaitTimeout = Duration.ofSeconds(60);

        private Builder() {
        }

        /** {@code mysql://[user@]host[:port][/db]}, {@code mariadb://…} or {@code jdbc:mysql://…}; no database = every database. */
        public Builder url(String url) {
            this.url = Objects.requireNonNull(url);
            return this;
        }

        /** User (default: the URL's, else root). */
        public Builder user(String user) {
            this.user = user;
            return this;
        }

        /** Password (copied; never logged or shown). */
        public Builder password(char[] password) {
            this.password = password == null ? null : password.clone();
            return this;
        }

        /** The database, overriding the URL's; "" for the whole server. */
        public Builder database(String database) {
            this.database = database;
            return this;
        }

        /** Parallel reading sessions (default: the backup's parallelism). */
        public Builder jobs(int jobs) {
            if (jobs < 1) {
                throw new ConfigurationException("jobs must be at least 1, was " + jobs);
            }
            this.jobs = jobs;
            return this;
        }

        /**
         * Whether to take the instant lock that lets several sessions read one snapshot (default true;
         * needs RELOAD). Without it, one session reads every table inside one transaction.
         */
        public Builder lock(boolean lock) {
            this.lock = lock;
            return this;
        }

        /**
         * Whether non-transactional tables (MyISAM, Aria, …) are read while the lock is still held, so
         * that they match the snapshot (default true; writers wait meanwhile). With false the lock is
         * released at once and each such table is read as it is when its turn comes.
         */
        public Builder lockNonTransactionalTables(boolean lock) {
            this.lockNonTransactional = lock;
            return this;
        }

        /** Also back up user accounts, roles and grants (default false). */
        public Builder users(boolean users) {
            this.users = users;
            return this;
        }

        /** How long a session waits for the backup lock or a table's metadata lock (default 60 s). */
        public Builder lockWaitTimeout(Duration timeout) {
            if (timeout == null || timeout.isNegative() || timeout.isZero()) {
                throw new ConfigurationException("lockWaitTimeout must be positive");
            }
            this.lockWaitTimeout = timeout;
            return this;
        }

        public MySqlSource build() {
            return new MySqlSource(this);
        }
    }
}
