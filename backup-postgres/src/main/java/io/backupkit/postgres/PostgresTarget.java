package io.backupkit.postgres;

import io.backupkit.ConfigurationException;
import io.backupkit.RestorePlan;
import io.backupkit.VerificationCheck;
import io.backupkit.postgres.internal.LogicalRestore;
import io.backupkit.postgres.internal.PgConnectionConfig;
import io.backupkit.postgres.internal.RestoreOptions;
import io.backupkit.spi.RestoreContext;
import io.backupkit.spi.RestoreTarget;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Restores a PostgreSQL logical snapshot into a database. By default into a new database (the
 * URL's, or {@link Builder#database(String)}) created with the source's encoding and locale, and
 * given the source database's owner, grants, comment and settings; an existing database is
 * refused, untouched, unless {@link Builder#dropExisting()} is set (then it is replaced only once
 * the restore is complete).
 *
 * <pre>{@code
 * PostgresTarget target = PostgresTarget.builder()
 *         .url("postgresql://localhost:5432/postgres")
 *         .user("postgres").password(pw)
 *         .database("shop_copy")
 *         .tables("public.orders", "public.customers")
 *         .build();
 * RestoreManager.builder().repository(repo).snapshot("latest").target(target).build().restore();
 * }</pre>
 */
public final class PostgresTarget implements RestoreTarget {
    private final PgConnectionConfig connection;
    private final RestoreOptions options;

    private PostgresTarget(Builder b) {
        if (b.url == null) {
            throw new ConfigurationException("PostgresTarget needs a url (jdbc:postgresql://host:port/db or postgresql://host:port/db)");
        }
        if (b.schemaOnly && b.dataOnly) {
            throw new ConfigurationException("schemaOnly() and dataOnly() exclude each other");
        }
        if (b.dataOnly && b.dropExisting) {
            throw new ConfigurationException("dataOnly() restores into an existing schema; it cannot be combined with dropExisting()");
        }
        PgConnectionConfig c = PgConnectionConfig.of(b.url, b.user, b.password, b.sslMode, b.sslRootCert);
        if (b.toolHost != null) {
            c = c.withToolAddress(b.toolHost, b.toolPort);
        }
        this.connection = c;
        if (b.terminateSessions && !b.dropExisting) {
            throw new ConfigurationException("terminateSessions() ends the sessions of a database being replaced: it needs dropExisting()");
        }
        this.options = new RestoreOptions(b.database, b.tables, b.schemaOnly, b.dataOnly, b.dropExisting, b.noOwner, b.noPrivileges,
                b.toolDirectory, b.maintenanceDatabase, b.terminateSessions, b.restoreGlobals, b.owner);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String engine() {
        return PostgresEngine.NAME;
    }

    /** The database restored into. */
    public String database() {
        return options.database() != null ? options.database() : connection.database();
    }

    @Override
    public String describe() {
        return connection.withDatabase(database()).toString();
    }

    @Override
    public RestorePlan plan(RestoreContext context) {
        return new LogicalRestore(connection, options).plan(context);
    }

    @Override
    public void restore(RestoreContext context) {
        new LogicalRestore(connection, options).restore(context);
    }

    /**
     * Restores into a scratch database with a unique name on the same server, compares row counts
     * and the schema fingerprint with the snapshot's metadata, runs amcheck's bt_index_check when
     * available, and drops the scratch database.
     */
    @Override
    public List<VerificationCheck> verifyByRestore(RestoreContext context) {
        return new LogicalRestore(connection, options).verify(context);
    }

    @Override
    public String toString() {
        return "PostgresTarget[" + describe() + "]";
    }

    /** Configures a {@link PostgresTarget}. Not thread-safe. */
    public static final class Builder {
        private String url;
        private String user;
        private char[] password;
        private String sslMode;
        private Path sslRootCert;
        private Path toolDirectory;
        private String toolHost;
        private int toolPort;
        private String database;
        private String maintenanceDatabase;
        private final List<String> tables = new ArrayList<>();
        private boolean schemaOnly;
        private boolean dataOnly;
        private boolean dropExisting;
        private boolean noOwner;
        private boolean noPrivileges;
        private boolean terminateSessions;
        private boolean restoreGlobals;
        private String owner;

        private Builder() {
        }

        /** JDBC URL or libpq URI of the server; its database is the restore target unless {@link #database(String)} is set. */
        public Builder url(String url) {
            this.url = Objects.requireNonNull(url, "url");
            return this;
        }

        public Builder user(String user) {
            this.user = user;
            return this;
        }

        /** Password; copied, and handed to pg_restore only through its environment. */
        public Builder password(char[] password) {
            this.password = password == null ? null : password.clone();
            return this;
        }

        public Builder sslMode(String sslMode) {
            this.sslMode = sslMode;
            return this;
        }

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

        /** Directory holding pg_restore (default: the newest local PostgreSQL client, else PATH). */
        public Builder toolDirectory(Path dir) {
            this.toolDirectory = dir;
            return this;
        }

        /** Name of the database to restore into (default: the URL's database). */
        public Builder database(String name) {
            if (name == null || name.isBlank()) {
                throw new ConfigurationException("database name must not be blank");
            }
            this.database = name;
            return this;
        }

        /** Database used to create and drop the target (default: postgres, or template1 when the target is postgres). */
        public Builder maintenanceDatabase(String name) {
            this.maintenanceDatabase = name;
            return this;
        }

        /** Restore only these tables ("schema.table" or "table"), with their partitions and owned sequences. */
        public Builder tables(String... names) {
            for (String n : names) {
                if (n == null || n.isBlank()) {
                    throw new ConfigurationException("table names must not be blank");
                }
                tables.add(n);
            }
            return this;
        }

        public Builder tables(List<String> names) {
            return tables(names.toArray(String[]::new));
        }

        /** Objects only, no rows. */
        public Builder schemaOnly() {
            this.schemaOnly = true;
            return this;
        }

        /** Rows only, into an existing database that already has the schema. */
        public Builder dataOnly() {
            this.dataOnly = true;
            return this;
        }

        /**
         * Replace the target database if it exists (its data is lost). The snapshot is restored under
         * a temporary name first; only when that succeeded is the old database renamed aside, the new
         * one renamed into place and the old one dropped. Any failure before leaves the old database
         * as it was. Other sessions on the old database make the restore fail (before it starts, and
         * again at the swap) unless {@link #terminateSessions()}.
         */
        public Builder dropExisting() {
            this.dropExisting = true;
            return this;
        }

        /** With {@link #dropExisting()}: end the other sessions of the database being replaced, at the swap. */
        public Builder terminateSessions() {
            this.terminateSessions = true;
            return this;
        }

        /**
         * First replay the snapshot's roles, role memberships and settings, and tablespaces
         * ({@code pg_dumpall --globals-only}, without passwords unless the backup asked for them) on
         * the target server. Roles that already exist there are kept as they are: their attributes,
         * settings, comments and memberships are not changed (only roles the target lacks are created).
         */
        public Builder restoreGlobals() {
            this.restoreGlobals = true;
            return this;
        }

        /**
         * The role that owns the restored database and every restored object (pg_restore
         * {@code --no-owner --role}), instead of the source's owners; the source owner's grants on the
         * database go to it. The role must exist.
         */
        public Builder owner(String role) {
            if (role == null || role.isBlank()) {
                throw new ConfigurationException("owner role must not be blank");
            }
            this.owner = role;
            return this;
        }

        /** Do not restore object owners (objects belong to the restoring user). */
        public Builder noOwner() {
            this.noOwner = true;
            return this;
        }

        /** Do not restore grants. */
        public Builder noPrivileges() {
            this.noPrivileges = true;
            return this;
        }

        public PostgresTarget build() {
            return new PostgresTarget(this);
        }
    }
}
