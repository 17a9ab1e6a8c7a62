package io.backupkit.sqlite;

import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;
import io.backupkit.sqlite.internal.SqliteFiles;
import io.backupkit.sqlite.internal.SqliteHeader;
import io.backupkit.sqlite.internal.SqliteUrl;
import io.backupkit.spi.BackupContext;
import io.backupkit.spi.BackupSource;
import io.backupkit.spi.BlockOutputStream;
import io.backupkit.spi.Chunking;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConnection;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;

/**
 * Backs up one SQLite database file: a consistent copy of the live file taken with SQLite's online
 * backup API in a single step (one read transaction, so writers in other processes may keep writing
 * in WAL mode), stored as one stream {@value #STREAM} cut into fixed blocks at the page size, so a
 * page changed in place changes one block and a second backup stores little.
 *
 * <p>The backup API writes the copy into a temporary file of the database's size (in
 * {@link Builder#tempDirectory(Path)}, the system's temporary directory by default), which is streamed
 * into the repository and deleted. The backup refuses to start when that directory has less free
 * space than the database's size. A backup killed with SIGKILL leaves that file behind
 * ({@code .backupkit-sqlite-*.db}).
 *
 * <pre>{@code
 * BackupSource source = SqliteSource.builder().path(Path.of("/var/lib/app/app.db")).build();
 * BackupResult r = BackupManager.builder().repository(repo).source(source).build().backup();
 * }</pre>
 */
public final class SqliteSource implements BackupSource {
    /** The one stream of an SQLite snapshot: the database file image, page by page. */
    public static final String STREAM = "database";
    /** The snapshot format written in the manifest metadata. */
    public static final String FORMAT = "backupkit-sqlite/1";

    private static final Logger LOG = LoggerFactory.getLogger(SqliteSource.class);
    private static final int STEP_SLEEP_MILLIS = 50;

    private final Path path;
    private final Path tempDirectory;
    private final Duration busyTimeout;
    private final boolean countRows;
    private final int blockSize;

    private SqliteSource(Builder b) {
        this.path = Objects.requireNonNull(b.path, "path (or url) is required");
        this.tempDirectory = b.tempDirectory;
        this.busyTimeout = b.busyTimeout;
        this.countRows = b.countRows;
        this.blockSize = b.blockSize;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The database file backed up (absolute). */
    public Path path() {
        return path;
    }

    @Override
    public String engine() {
        return SqliteEngine.NAME;
    }

    @Override
    public String describe() {
        return "sqlite:" + path;
    }

    @Override
    public void backup(BackupContext context) {
        if (!Files.exists(path)) {
            throw new ConfigurationException("SQLite database " + path + " does not exist; check the path (sqlite:" + path + ")");
        }
        if (Files.isDirectory(path)) {
            throw new ConfigurationException("SQLite database path " + path + " is a directory; give the database file");
        }
        SqliteHeader.read(path); // "not a database" before anything else
        Path temp = tempFile();
        try {
            String journalMode = copyConsistently(temp);
            SqliteHeader header = SqliteHeader.read(temp);
            SqliteFiles.Facts facts;
            try (Connection c = SqliteFiles.openImmutable(temp)) {
                facts = SqliteFiles.facts(c, path, countRows);
            } catch (SQLException e) {
                throw SqliteFiles.translate(e, path, "read", busyTimeout);
            }
            long size = Files.size(temp);
            int block = blockSize > 0 ? blockSize : Math.max(4096, header.pageSize());
            context.expectedBytes(size);
            try (InputStream in = Files.newInputStream(temp);
                 BlockOutputStream out = context.newStream(STREAM, Chunking.fixed(block))) {
                in.transferTo(out);
            }
            context.putMetadata("format", FORMAT);
            context.putMetadata("method", "online-backup-api");
            context.putMetadata("file", path.getFileName().toString());
            context.putMetadata("pageSize", facts.pageSize());
            context.putMetadata("pageCount", facts.pageCount());
            context.putMetadata("bytes", size);
            context.putMetadata("blockSize", block);
            context.putMetadata("journalMode", journalMode);
            context.putMetadata("walHeader", header.wal());
            context.putMetadata("encoding", facts.encoding());
            context.putMetadata("userVersion", facts.userVersion());
            context.putMetadata("applicationId", facts.applicationId());
            context.putMetadata("sqliteVersion", facts.sqliteVersion());
            context.putMetadata("schemaSha256", facts.schemaSha256());
            context.putMetadata("tables", facts.tables());
        } catch (IOException e) {
            throw new UncheckedIOException("SQLite backup of " + path + " failed: " + e.getMessage(), e);
        } finally {
            SqliteFiles.deleteWithSideFiles(temp);
        }
    }

    /**
     * One backup step of all pages: the source is read in a single read transaction, so the copy is the
     * database as of one commit (a multi-step backup restarts whenever another process writes).
     */
    private String copyConsistently(Path temp) {
        long started = System.nanoTime();
        String journalMode;
        try (Connection c = SqliteFiles.open(path, busyTimeout)) {
            long need = SqliteHeader.read(path).pageSize() * Math.max(1, pageCountOf(c));
            try (var s = c.createStatement(); var r = s.executeQuery("PRAGMA journal_mode")) {
                journalMode = r.next() ? r.getString(1) : "unknown";
            }
            long free = Files.getFileStore(temp.getParent()).getUsableSpace();
            if (free < need + (1 << 20)) {
                throw new ConfigurationException("not enough space for the temporary copy of SQLite database " + path + " in "
                        + temp.getParent() + ": needs " + need + " bytes, " + free + " free; choose another directory "
                        + "(tempDirectory option / SqliteSource.builder().tempDirectory(...))");
            }
            int timeouts = (int) Math.max(1, busyTimeout.toMillis() / STEP_SLEEP_MILLIS);
            int rc = ((SQLiteConnection) c).getDatabase().backup("main", temp.toString(), null, STEP_SLEEP_MILLIS, timeouts, -1);
            if (rc == 5 || rc == 6) {
                throw SqliteFiles.translate(new SQLException("database is locked", "", rc), path, "copy", busyTimeout);
            }
            if (rc != 0 && rc != 101) {
                throw new EngineException("SQLite online backup of " + path + " failed with result code " + rc);
            }
        } catch (SQLException e) {
            throw SqliteFiles.translate(e, path, "copy", busyTimeout);
        } catch (NoSuchFileException e) {
            throw new ConfigurationException("SQLite database " + path + " does not exist; check the path", e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        LOG.debug("copied {} in {} ms", path, (System.nanoTime() - started) / 1_000_000);
        return journalMode;
    }

    private long pageCountOf(Connection c) throws SQLException {
        try (var s = c.createStatement(); var r = s.executeQuery("PRAGMA page_count")) {
            return r.next() ? r.getLong(1) : 0;
        }
    }

    private Path tempFile() {
        Path dir = tempDirectory != null ? tempDirectory : Path.of(System.getProperty("java.io.tmpdir"));
        try {
            Files.createDirectories(dir);
            return Files.createTempFile(dir, ".backupkit-sqlite-", ".db");
        } catch (IOException e) {
            throw new ConfigurationException("cannot create the temporary copy of SQLite database " + path + " in " + dir + ": "
                    + e.getMessage() + "; choose a writable directory (tempDirectory option)", e);
        }
    }

    /** Builds an {@link SqliteSource}; {@link #path(Path)} or {@link #url(String)} is required. */
    public static final class Builder {
        private Path path;
        private Path tempDirectory;
        private Duration busyTimeout = Duration.ofSeconds(10);
        private boolean countRows = true;
        private int blockSize;

        private Builder() {
        }

        /** The database file. */
        public Builder path(Path path) {
            this.path = path.toAbsolutePath().normalize();
            return this;
        }

        /** {@code sqlite:PATH} (relative or absolute). */
        public Builder url(String url) {
            this.path = SqliteUrl.path(url);
            return this;
        }

        /** Where the temporary copy goes (default: {@code java.io.tmpdir}); needs free space of the database's size. */
        public Builder tempDirectory(Path dir) {
            this.tempDirectory = dir;
            return this;
        }

        /** How long to wait for another process's lock before failing (default 10 s). */
        public Builder busyTimeout(Duration timeout) {
            if (timeout.isNegative()) {
                throw new ConfigurationException("busyTimeout must not be negative, was " + timeout);
            }
            this.busyTimeout = timeout;
            return this;
        }

        /** Whether to record every table's row count in the manifest (default true; costs one scan of each table's smallest index). */
        public Builder countRows(boolean countRows) {
            this.countRows = countRows;
            return this;
        }

        /** Fixed block size for deduplication (default: the page size, at least 4 KiB); a multiple of the page size. */
        public Builder blockSize(int blockSize) {
            if (blockSize != 0 && (blockSize < 4096 || Integer.bitCount(blockSize) != 1)) {
                throw new ConfigurationException("blockSize must be a power of two of at least 4096, was " + blockSize);
            }
            this.blockSize = blockSize;
            return this;
        }

        public SqliteSource build() {
            return new SqliteSource(this);
        }
    }
}
