package io.backupkit.sqlite;

import io.backupkit.spi.BackupSource;
import io.backupkit.spi.RestoreTarget;
import io.backupkit.testkit.DatabaseEngineContract;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The shared engine contract (backup-core test jar) for SQLite: a database is a file. */
class SqliteEngineContractIT extends DatabaseEngineContract<Path> {
    private static final AtomicInteger N = new AtomicInteger();

    @TempDir
    Path dir;

    @Override
    protected String engineName() {
        return "sqlite";
    }

    @Override
    protected Path createSampleDatabase() {
        Path db = dir.resolve("sample-" + N.incrementAndGet() + ".db");
        try {
            SqliteTestData.create(db, true, 4000, 700, 5);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return db;
    }

    @Override
    protected Path newTarget() {
        return dir.resolve("restored/target-" + N.incrementAndGet() + ".db");
    }

    @Override
    protected void modify(Path db) {
        try (Connection c = SqliteTestData.connect(db); Statement s = c.createStatement()) {
            s.executeUpdate("UPDATE items SET name = 'changed' WHERE id % 50 = 0");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    protected Map<String, String> digest(Path db) {
        Map<String, String> out = new TreeMap<>();
        try (Connection c = SqliteTestData.connect(db); Statement s = c.createStatement()) {
            List<String> tables = new java.util.ArrayList<>();
            try (ResultSet r = s.executeQuery("SELECT name, sql FROM sqlite_master ORDER BY name")) {
                while (r.next()) {
                    out.put("schema " + r.getString(1), String.valueOf(r.getString(2)));
                }
            }
            try (ResultSet r = s.executeQuery("SELECT name FROM sqlite_master WHERE type = 'table'")) {
                while (r.next()) {
                    tables.add(r.getString(1));
                }
            }
            for (String t : tables) {
                MessageDigest md = MessageDigest.getInstance("SHA-256");
                try (ResultSet r = s.executeQuery("SELECT * FROM \"" + t + "\" ORDER BY rowid")) {
                    int cols = r.getMetaData().getColumnCount();
                    while (r.next()) {
                        for (int i = 1; i <= cols; i++) {
                            byte[] b = r.getBytes(i);
                            md.update(b == null ? new byte[] {0x7f} : b);
                            md.update((byte) 0);
                        }
                    }
                }
                out.put("rows " + t, HexFormat.of().formatHex(md.digest()));
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    @Override
    protected boolean exists(Path db) {
        return Files.exists(db);
    }

    @Override
    protected BackupSource source(Path db) {
        return SqliteSource.builder().path(db).build();
    }

    @Override
    protected RestoreTarget target(Path db, boolean replaceExisting) {
        return SqliteTarget.builder().path(db).overwrite(replaceExisting).build();
    }

    @Override
    protected Optional<RestoreTarget> scratchTarget() {
        try {
            Files.createDirectories(dir.resolve("scratch"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Optional.of(SqliteTarget.builder().path(dir.resolve("scratch")).build());
    }

    @Override
    protected void assertNoScratchLeft() {
        try (var files = Files.list(dir.resolve("scratch"))) {
            assertEquals(List.of(), files.toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
