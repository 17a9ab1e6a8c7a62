package io.backupkit.postgres;

import io.backupkit.ConfigurationException;
import io.backupkit.postgres.internal.Catalog;
import io.backupkit.postgres.internal.PgConnectionConfig;
import io.backupkit.postgres.internal.physical.ClusterInfo;
import io.backupkit.postgres.internal.physical.LowLevelBaseBackup;
import io.backupkit.postgres.internal.physical.StreamedBaseBackup;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.BackupSource;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Objects;

/**
 * Backs up a whole PostgreSQL cluster physically (all databases, all tablespaces) as a base backup
 * that can be restored on its own: the WAL from the backup's start to its end is inside the snapshot.
 * Two methods behind one source:
 * <ul>
 *   <li>{@link Method#PG_BASEBACKUP}: {@code pg_basebackup} streams one tar archive to stdout; for a
 *       server on another host. Needs a role with REPLICATION and a {@code replication} line in
 *       pg_hba.conf; clusters with user tablespaces cannot be streamed this way.</li>
 *   <li>{@link Method#LOW_LEVEL}: {@code pg_backup_start}/{@code pg_backup_stop} in one JDBC session
 *       while this JVM reads the data directory and tablespaces itself, several files at once; for a
 *       JVM on the database host or in a sidecar sharing its volume.</li>
 *   <li>{@link Method#AUTO} (default): low-level when the server's data directory is readable here
 *       and holds the same cluster, pg_basebackup otherwise.</li>
 * </ul>
 * Relation files are stored in fixed-size blocks aligned to file offsets (default 128 KiB), so a
 * second backup after a few pages changed stores about those pages.
 *
 * <pre>{@code
 * BackupResult r = BackupManager.builder().repository(repo)
 *         .source(PostgresPhysicalSource.builder().url("postgresql://db.internal/postgres").user("backup")
 *                 .password(pw).build())
 *         .build().backup();
 * }</pre>
 */
public final class PostgresPhysicalSource implements BackupSource {
    /** Block size of relation files: measured as the best trade-off (docs/performance.md, "Physical backups"). */
    public static final int DEFAULT_BLOCK_SIZE = 128 * 1024;

    /** How the base backup is taken. */
    public enum Method { AUTO, PG_BASEBACKUP, LOW_LEVEL }

    private final PgConnectionConfig connection;
    private final Path toolDirectory;
    private final Method method;
    private final Path dataDirectory;
    private final int blockSize;
    private final int readers;
    private final String label;

    private PostgresPhysicalSource(Builder b) {
        if (b.url == null) {
            throw new ConfigurationException("PostgresPhysicalSource needs a url to any database of the cluster "
                    + "(postgresql://host:port/postgres)");
        }
        this.connection = PgConnectionConfig.of(b.url, b.user, b.password, b.sslMode, b.sslRootCert);
        this.toolDirectory = b.toolDirectory;
        this.method = b.method;
        this.dataDirectory = b.dataDirectory;
        this.blockSize = b.blockSize;
        this.readers = b.readers;
        this.label = b.label;
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
        return connection + " (physical)";
    }

    @Override
    public void backup(BackupContext context) {
        Method m = method == Method.AUTO ? chooseMethod() : method;
        if (m == Method.LOW_LEVEL) {
            int n = readers > 0 ? readers : context.parallelism();
            new LowLevelBaseBackup(connection, dataDirectory, blockSize, n, label).run(context);
        } else {
            new StreamedBaseBackup(connection, toolDirectory, blockSize, label).run(context);
        }
    }

    /** Low-level when the data directory is readable here and holds this cluster. */
    private Method chooseMethod() {
        if (dataDirectory != null) {
            return Method.LOW_LEVEL;
        }
        try (Connection c = Catalog.connect(connection, "backupkit physical backup")) {
            ClusterInfo info = ClusterInfo.read(c);
            if (!info.inRecovery() && info.dataDirectory() != null
                    && LowLevelBaseBackup.canRead(Path.of(info.dataDirectory()), info.systemIdentifier())) {
                return Method.LOW_LEVEL;
            }
            return Method.PG_BASEBACKUP;
        } catch (SQLException e) {
            throw Catalog.sqlError("reading the server settings of " + connection.describe(), e);
        }
    }

    @Override
    public String toString() {
        return "PostgresPhysicalSource[" + describe() + ", " + method + "]";
    }

    /** Configures a {@link PostgresPhysicalSource}. Not thread-safe. */
    public static final class Builder {
        private String url;
        private String user;
        private char[] password;
        private String sslMode;
        private Path sslRootCert;
        private Path toolDirectory;
        private Method method = Method.AUTO;
        private Path dataDirectory;
        private int blockSize = DEFAULT_BLOCK_SIZE;
        private int readers;
        private String label = "backupkit";

        private Builder() {
        }

        /** Any database of the cluster: JDBC URL or libpq URI. */
        public Builder url(String url) {
            this.url = Objects.requireNonNull(url, "url");
            return this;
        }

        public Builder user(String user) {
            this.user = user;
            return this;
        }

        /** Password; copied; reaches pg_basebackup only through PGPASSWORD. */
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

        /** Directory holding pg_basebackup (default: the newest local PostgreSQL client, else PATH). */
        public Builder toolDirectory(Path dir) {
            this.toolDirectory = dir;
            return this;
        }

        public Builder method(Method method) {
            this.method = Objects.requireNonNull(method, "method");
            return this;
        }

        /**
         * The cluster's data directory as this JVM sees it (implies {@link Method#LOW_LEVEL}); default: the
         * server's {@code data_directory} setting.
         */
        public Builder dataDirectory(Path dir) {
            this.dataDirectory = dir;
            return this;
        }

        /**
         * Fixed block size for relation files, 16 KiB to 4 MiB, a multiple of 8 KiB (default 128 KiB); 0 cuts
         * content-defined chunks instead (for comparison: they dedup page changes worse, see docs/performance.md).
         */
        public Builder blockSize(int bytes) {
            if (bytes != 0 && (bytes < 16 * 1024 || bytes > 4 * 1024 * 1024 || bytes % 8192 != 0)) {
                throw new ConfigurationException("blockSize must be 0 (content-defined) or a multiple of 8 KiB between 16 KiB and 4 MiB, was "
                        + bytes);
            }
            this.blockSize = bytes;
            return this;
        }

        /** Files read at once by the low-level method (default: the backup's parallelism). */
        public Builder readers(int readers) {
            if (readers < 1) {
                throw new ConfigurationException("readers must be at least 1, was " + readers);
            }
            this.readers = readers;
            return this;
        }

        /** The label written into backup_label (default "backupkit"). */
        public Builder label(String label) {
            this.label = Objects.requireNonNull(label, "label");
            return this;
        }

        public PostgresPhysicalSource build() {
            return new PostgresPhysicalSource(this);
        }
    }
}
