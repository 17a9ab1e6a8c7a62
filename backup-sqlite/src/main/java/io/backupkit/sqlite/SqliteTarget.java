package io.backupkit.sqlite;

import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;
import io.backupkit.IntegrityException;
import io.backupkit.RestorePlan;
import io.backupkit.Snapshot;
import io.backupkit.SnapshotStream;
import io.backupkit.TargetExistsException;
import io.backupkit.VerificationCheck;
import io.backupkit.sqlite.internal.SqliteFiles;
import io.backupkit.sqlite.internal.SqliteHeader;
import io.backupkit.sqlite.internal.SqliteUrl;
import io.backupkit.spi.RestoreContext;
import io.backupkit.spi.RestoreTarget;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.Channels;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * Restores an SQLite snapshot into a file. The file is written under a temporary name beside the
 * target, synced, checked with {@code PRAGMA quick_check}, and only then moved into place, so a failed
 * restore leaves no half-written database. An existing target is refused
 * ({@link TargetExistsException}) unless {@link Builder#overwrite()} is set; then it is replaced only
 * when no other process uses it (its WAL is checkpointed away first, so a stale {@code -wal} file can
 * never be applied to the restored database).
 *
 * <p>{@link #verifyByRestore} (COMPREHENSIVE verification) restores into a temporary file in the
 * target's directory (or the target itself when it is a directory), runs {@code PRAGMA integrity_check},
 * compares page count, schema and row counts with the snapshot and deletes the file.
 *
 * <pre>{@code
 * RestoreTarget target = SqliteTarget.builder().path(Path.of("/srv/app/restored.db")).build();
 * RestoreManager.builder().repository(repo).snapshot("latest").target(target).build().restore();
 * }</pre>
 */
public final class SqliteTarget implements RestoreTarget {
    private final Path path;
    private final boolean overwrite;
    private final Duration busyTimeout;

    private SqliteTarget(Builder b) {
        this.path = Objects.requireNonNull(b.path, "path (or url) is required");
        this.overwrite = b.overwrite;
        this.busyTimeout = b.busyTimeout;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The file restored into (absolute). */
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
    public RestorePlan plan(RestoreContext context) {
        SnapshotStream stream = stream(context.snapshot());
        Map<String, Object> md = context.snapshot().metadata();
        List<String> actions = new ArrayList<>();
        boolean exists = Files.exists(path);
        if (exists && !overwrite) {
            actions.add("refuse: " + path + " exists (overwrite not asked for)");
        } else {
            actions.add("write " + stream.size() + " bytes (" + md.getOrDefault("pageCount", "?") + " pages of " + md.getOrDefault("pageSize", "?")
                    + " bytes) to a temporary file in " + path.getParent());
            actions.add("check it with PRAGMA quick_check");
            actions.add(exists ? "replace the existing " + path + " (after checkpointing its WAL; refused if another process uses it)"
                    : "move it to " + path);
        }
        return new RestorePlan(describe(), actions, stream.size());
    }

    @Override
    public void restore(RestoreContext context) {
        SnapshotStream stream = stream(context.snapshot());
        boolean exists = Files.exists(path) || Files.exists(side(path, "-wal"));
        if (exists && !overwrite) {
            throw new TargetExistsException("SQLite file " + path, "SQLite file " + path + " exists; nothing was changed. Restore into a "
                    + "new path, or replace it (SqliteTarget.builder().overwrite(), engine option dropExisting=true, CLI --drop-existing --yes)");
        }
        if (Files.isDirectory(path)) {
            throw new ConfigurationException("SQLite restore target " + path + " is a directory; give a file path");
        }
        Path dir = path.getParent();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new ConfigurationException("cannot create directory " + dir + " for the restored SQLite database: " + e.getMessage(), e);
        }
        Path temp = dir.resolve("." + path.getFileName() + ".backupkit-restore-" + UUID.randomUUID().toString().substring(0, 8));
        try {
            writeImage(context, stream, temp);
            List<String> problems = check(temp, true);
            if (!problems.isEmpty()) {
                throw new IntegrityException("snapshot " + context.snapshot().shortId(), "the restored SQLite database fails PRAGMA "
                        + "quick_check: " + String.join("; ", problems) + "; " + path + " was not changed");
            }
            if (Files.exists(path) || Files.exists(side(path, "-wal"))) {
                releaseExisting();
            }
            move(temp, path);
        } finally {
            SqliteFiles.deleteWithSideFiles(temp);
        }
    }

    @Override
    public List<VerificationCheck> verifyByRestore(RestoreContext context) {
        SnapshotStream stream = stream(context.snapshot());
        Path dir = Files.isDirectory(path) ? path : path.getParent();
        List<VerificationCheck> checks = new ArrayList<>();
        Path temp = dir.resolve(".backupkit-verify-" + UUID.randomUUID().toString().substring(0, 8) + ".db");
        try {
            Files.createDirectories(dir);
            writeImage(context, stream, temp);
            checks.add(VerificationCheck.passed("restore into " + temp.getFileName(), stream.size() + " bytes"));
            List<String> problems = check(temp, false);
            checks.add(problems.isEmpty() ? VerificationCheck.passed("PRAGMA integrity_check", "ok")
                    : VerificationCheck.failed("PRAGMA integrity_check", String.join("; ", problems)));
            Map<String, Object> md = context.snapshot().metadata();
            try (Connection c = SqliteFiles.openImmutable(temp)) {
                SqliteFiles.Facts facts = SqliteFiles.facts(c, temp, md.get("tables") instanceof List<?> l && !l.isEmpty()
                        && l.get(0) instanceof Map<?, ?> m && m.containsKey("rows"));
                checks.add(compare("page count", md.get("pageCount"), facts.pageCount()));
                checks.add(compare("schema sha256", md.get("schemaSha256"), facts.schemaSha256()));
                if (md.get("tables") instanceof List<?> recorded) {
                    Map<String, Object> counts = facts.rowCounts();
                    for (Object o : recorded) {
                        if (o instanceof Map<?, ?> t && t.get("rows") != null) {
                            checks.add(compare("row count " + t.get("name"), t.get("rows"), counts.get(String.valueOf(t.get("name")))));
                        }
                    }
                }
            }
        } catch (IOException e) {
            checks.add(VerificationCheck.failed("restore into " + dir, e.getMessage()));
        } catch (SQLException e) {
            checks.add(VerificationCheck.failed("open restored copy", SqliteFiles.translate(e, temp, "open", Duration.ZERO).getMessage()));
        } finally {
            SqliteFiles.deleteWithSideFiles(temp);
        }
        return checks;
    }

    private static VerificationCheck compare(String name, Object expected, Object actual) {
        if (expected == null) {
            return VerificationCheck.skipped(name, "not recorded in the snapshot");
        }
        boolean same = expected instanceof Number a && actual instanceof Number b ? a.longValue() == b.longValue()
                : String.valueOf(expected).equals(String.valueOf(actual));
        return same ? VerificationCheck.passed(name, String.valueOf(actual))
                : VerificationCheck.failed(name, "snapshot recorded " + expected + ", restored copy has " + actual);
    }

    private SnapshotStream stream(Snapshot s) {
        if (!SqliteEngine.NAME.equals(s.engine())) {
            throw new ConfigurationException("snapshot " + s.shortId() + " is a " + s.engine() + " snapshot; the SQLite target restores only "
                    + "sqlite snapshots");
        }
        return s.streams().stream().filter(st -> st.name().equals(SqliteSource.STREAM)).findFirst()
                .orElseThrow(() -> new IntegrityException("snapshot " + s.shortId(), "the SQLite snapshot has no stream '" + SqliteSource.STREAM + "'"));
    }

    private static void writeImage(RestoreContext context, SnapshotStream stream, Path temp) {
        try (InputStream in = context.openStream(stream.name());
             FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            OutputStream out = Channels.newOutputStream(ch);
            byte[] head = in.readNBytes(SqliteHeader.SIZE);
            if (head.length > 0) {
                SqliteHeader.parse(head, "stream " + stream.name() + " of snapshot " + context.snapshot().shortId());
                out.write(head);
            }
            in.transferTo(out);
            ch.force(true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the restored SQLite database to " + temp + ": " + e.getMessage(), e);
        }
    }

    private List<String> check(Path file, boolean quick) {
        try (Connection c = SqliteFiles.openImmutable(file)) {
            return SqliteFiles.integrityProblems(c, file, quick, 20);
        } catch (SQLException e) {
            return List.of(e.getMessage());
        }
    }

    /**
     * Before replacing an existing database: checkpoint its WAL into it and make sure no other process
     * has it open, so that no -wal file of the old database survives next to the new one.
     */
    private void releaseExisting() {
        if (!Files.exists(path)) {
            SqliteFiles.deleteWithSideFiles(path);
            return;
        }
        byte[] head;
        try (InputStream in = Files.newInputStream(path)) {
            head = in.readNBytes(16);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the existing " + path + ": " + e.getMessage(), e);
        }
        if (head.length > 0 && SqliteHeader.hasMagic(head)) {
            try (Connection c = SqliteFiles.open(path, busyTimeout); Statement s = c.createStatement()) {
                s.execute("PRAGMA locking_mode=EXCLUSIVE");
                // an exclusive lock is refused while another process reads or writes the database
                s.execute("BEGIN EXCLUSIVE");
                s.execute("COMMIT");
                try (ResultSet r = s.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
                    if (r.next() && r.getInt(1) != 0) {
                        throw new EngineException("SQLite database " + path + " is in use by another process (its WAL cannot be "
                                + "checkpointed); stop it before replacing the file. Nothing was changed");
                    }
                }
            } catch (SQLException e) {
                RuntimeException t = SqliteFiles.translate(e, path, "replace", busyTimeout);
                if (t instanceof EngineException) {
                    throw new EngineException(t.getMessage() + ". Nothing was changed", e);
                }
                // a damaged or foreign file that the user asked to overwrite: nothing of it to keep
            }
        }
        for (String suffix : List.of("-wal", "-shm", "-journal")) {
            try {
                Files.deleteIfExists(side(path, suffix));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot remove " + side(path, suffix) + " before replacing " + path + ": " + e.getMessage(), e);
            }
        }
    }

    private static void move(Path from, Path to) {
        try {
            try {
                Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
            }
            try (FileChannel d = FileChannel.open(to.getParent(), StandardOpenOption.READ)) {
                d.force(true);
            } catch (IOException e) {
                // some file systems cannot sync a directory; the file itself is synced
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move the restored SQLite database into place at " + to + ": " + e.getMessage(), e);
        }
    }

    private static Path side(Path p, String suffix) {
        return p.resolveSibling(p.getFileName() + suffix);
    }

    /** Builds an {@link SqliteTarget}; {@link #path(Path)} or {@link #url(String)} is required. */
    public static final class Builder {
        private Path path;
        private boolean overwrite;
        private Duration busyTimeout = Duration.ofSeconds(10);

        private Builder() {
        }

        /** The file to restore into. */
        public Builder path(Path path) {
            this.path = path.toAbsolutePath().normalize();
            return this;
        }

        /** {@code sqlite:PATH}. */
        public Builder url(String url) {
            this.path = SqliteUrl.path(url);
            return this;
        }

        /** Replace the file if it exists (refused while another process uses it). */
        public Builder overwrite() {
            return overwrite(true);
        }

        public Builder overwrite(boolean overwrite) {
            this.overwrite = overwrite;
            return this;
        }

        /** How long to wait for another process's lock on an existing target (default 10 s). */
        public Builder busyTimeout(Duration timeout) {
            this.busyTimeout = timeout;
            return this;
        }

        public SqliteTarget build() {
            return new SqliteTarget(this);
        }
    }
}
