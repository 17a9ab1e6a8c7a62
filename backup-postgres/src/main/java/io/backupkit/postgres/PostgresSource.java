package io.backupkit.postgres;

import io.backupkit.ConfigurationException;
import io.backupkit.postgres.internal.LogicalBackup;
import io.backupkit.postgres.internal.PgConnectionConfig;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.BackupSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Backs up one PostgreSQL database logically: one exported snapshot, pre-data and post-data
 * streams, and parallel pg_dump processes over size-balanced table shards, each streamed straight
 * into the repository. Immutable and thread-safe; the password reaches pg_dump only through
 * PGPASSWORD in its environment.
 *
 * <pre>{@code
 * PostgresSource source = PostgresSource.builder()
 *         .url("postgresql://db.internal:5432/shop")
 *         .user("backup")
 *         .password(System.getenv("PGPASSWORD").toCharArray())
 *         .sslMode("verify-full")
 *         .build();
 * BackupManager.builder().repository(repo).source(source).parallelism(4).build().backup();
 * }</pre>
 */
public final class PostgresSource implements BackupSource {
    /** Default of {@link Builder#lockWaitTimeout(Duration)}. */
    public static final Duration DEFAULT_LOCK_WAIT_TIMEOUT = Duration.ofSeconds(60);

    private final PgConnectionConfig connection;
    private final Path toolDirectory;
    private final LogicalBackup.Options options;

    private PostgresSource(Builder b) {
        if (b.url == null) {
            throw new ConfigurationException("PostgresSource needs a url (jdbc:postgresql://host:port/db or postgresql://host:port/db)");
        }
        PgConnectionConfig c = PgConnectionConfig.of(b.url, b.user, b.password, b.sslMode, b.sslRootCert);
        if (b.toolHost != null) {
            c = c.withToolAddress(b.toolHost, b.toolPort);
        }
        this.connection = c;
        this.toolDirectory = b.toolDirectory;
        this.options = new LogicalBackup.Options(b.toolDirectory, b.jobs, b.splitLargeTables, b.lockWaitTimeout, b.globals, b.rolePasswords);
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
        return connection.toString();
    }

    /** The database being backed up. */
    public String database() {
        return connection.database();
    }

    @Override
    public void backup(BackupContext context) {
        new LogicalBackup(connection, options).run(context);
    }

    @Override
    public String toString() {
        return "PostgresSource[" + describe() + "]";
    }

    /** Configures a {@link PostgresSource}. Not thread-safe. */
    public static final class Builder {
        private String url;
        private String user;
        private char[] password;
        private String sslMode;
        private Path sslRootCert;
        private Path toolDirectory;
        private String toolHost;
        private int toolPort;
        private int jobs;
        private boolean splitLargeTables = true;
        private Duration lockWaitTimeout = DEFAULT_LOCK_WAIT_TIMEOUT;
        private boolean globals = true;
        private boolean rolePasswords;

        private Builder() {
        }

        /** JDBC URL ({@code jdbc:postgresql://host:port/db}) or libpq URI ({@code postgresql://user@host:port/db}). */
        public Builder url(String url) {
            this.url = Objects.requireNonNull(url, "url");
            return this;
        }

        /** Login role; overrides one in the URL. */
        public Builder user(String user) {
            this.user = user;
            return this;
        }

        /** Password; copied, and handed to pg_dump only through its environment. */
        public Builder password(char[] password) {
            this.password = password == null ? null : password.clone();
            return this;
        }

        /** libpq sslmode: disable, allow, prefer, require, verify-ca, verify-full. */
        public Builder sslMode(String sslMode) {
            this.sslMode = sslMode;
            return this;
        }

        /** CA certificate file for verify-ca / verify-full. */
        public Builder sslRootCert(Path file) {
            this.sslRootCert = file;
            return this;
        }

        /**
         * Where the client tools reach the server when they run somewhere else than this JVM (through a
         * {@link io.backupkit.spi.CommandExecutor} into a database pod: {@code ("localhost", 5432)}), while
         * JDBC uses the URL's address (a port-forward). Default: the URL's host and port.
         */
        public Builder toolAddress(String host, int port) {
            if (host == null || host.isBlank() || port < 1 || port > 65535) {
                throw new ConfigurationException("toolAddress needs a host and a port between 1 and 65535, was " + host + ":" + port);
            }
            this.toolHost = host;
            this.toolPort = port;
            return this;
        }

        /** Directory holding pg_dump and pg_restore (default: the newest local PostgreSQL client, else PATH). */
        public Builder toolDirectory(Path dir) {
            this.toolDirectory = dir;
            return this;
        }

        /** Data shards (pg_dump processes) at most; default and upper bound: the backup's parallelism. */
        public Builder jobs(int jobs) {
            if (jobs < 1) {
                throw new ConfigurationException("jobs must be at least 1, was " + jobs);
            }
            this.jobs = jobs;
            return this;
        }

        /**
         * Whether a table bigger than its fair share (total size / jobs, at least 32 MiB) is dumped as
         * several page ranges in parallel (COPY over ctid ranges in the same snapshot, PostgreSQL 14+)
         * instead of by one pg_dump. Default true.
         */
        public Builder splitLargeTables(boolean split) {
            this.splitLargeTables = split;
            return this;
        }

        /**
         * How long any session of the backup waits for a table lock before the backup fails with an
         * error naming the table (default 60 s). The backup's children lock each table after its
         * snapshot session did; an {@code ALTER TABLE} queued in between would otherwise make both
         * the backup and the application wait forever, outside PostgreSQL's deadlock detector.
         */
        public Builder lockWaitTimeout(Duration timeout) {
            if (timeout == null || timeout.isNegative() || timeout.isZero()) {
                throw new ConfigurationException("lockWaitTimeout must be positive, was " + timeout);
            }
            this.lockWaitTimeout = timeout;
            return this;
        }

        /**
         * Whether the cluster's roles, role memberships and settings and tablespaces
         * ({@code pg_dumpall --globals-only}) are backed up as their own stream {@code globals}
         * (default true; a restore applies them only when asked, {@code PostgresTarget.Builder#restoreGlobals()}).
         */
        public Builder globals(boolean globals) {
            this.globals = globals;
            return this;
        }

        /**
         * Include role password hashes in the globals stream (default false: roles are restored
         * without passwords). Needs a superuser, since only pg_authid holds them.
         */
        public Builder rolePasswords(boolean include) {
            this.rolePasswords = include;
            return this;
        }

        public PostgresSource build() {
            return new PostgresSource(this);
        }
    }
}
