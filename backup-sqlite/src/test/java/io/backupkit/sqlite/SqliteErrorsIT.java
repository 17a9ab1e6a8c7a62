package io.backupkit.sqlite;

import io.backupkit.BackupManager;
import io.backupkit.BackupResult;
import io.backupkit.ConfigurationException;
import io.backupkit.EngineException;
import io.backupkit.Repository;
import io.backupkit.RestoreManager;
import io.backupkit.TargetExistsException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every SQLite error case with its message: missing, not a database, locked, target exists, target in use. */
class SqliteErrorsIT {
    @TempDir
    static Path dir;
    static Repository repo;
    static BackupResult snapshot;
    static String snapshotDigest;

    @BeforeAll
    static void setUp() throws Exception {
        repo = Repository.builder().location(dir.resolve("repo").toString()).password("sqlite-errors".toCharArray()).openOrCreate();
        Path db = dir.resolve("source.db");
        SqliteTestData.create(db, true, 500, 200, 7);
        snapshot = BackupManager.builder().repository(repo).source(SqliteSource.builder().path(db).build()).build().backup();
        snapshotDigest = SqliteTestData.contentDigest(db);
    }

    @AfterAll
    static void tearDown() {
        repo.close();
    }

    private BackupResult backup(SqliteSource source) {
        return BackupManager.builder().repository(repo).source(source).build().backup();
    }

    private void restore(SqliteTarget target) {
        RestoreManager.builder().repository(repo).snapshot(snapshot.snapshotId()).target(target).build().restore();
    }

    @Test
    void backup_ofAMissingFile_saysItDoesNotExist_andCreatesNothing() {
        Path missing = dir.resolve("nope/missing.db");
        ConfigurationException e = assertThrows(ConfigurationException.class,
                () -> backup(SqliteSource.builder().url("sqlite:" + missing).build()));
        assertEquals("SQLite database " + missing + " does not exist; check the path (sqlite:" + missing + ")", e.getMessage());
        assertTrue(Files.notExists(missing), "the backup must not create the database");
    }

    @Test
    void backup_ofAFileThatIsNotADatabase_saysSo() throws Exception {
        Path text = dir.resolve("notes.txt");
        Files.writeString(text, "this is not a database, just some text that is longer than one hundred bytes ........................");
        ConfigurationException e = assertThrows(ConfigurationException.class, () -> backup(SqliteSource.builder().path(text).build()));
        assertTrue(e.getMessage().startsWith(text + " is not an SQLite database: it does not start with the header \"SQLite format 3\""),
                e.getMessage());
    }

    @Test
    void backup_ofADatabaseLockedByAnotherProcess_failsAfterTheBusyTimeout_namingTheLock() throws Exception {
        Path db = dir.resolve("locked.db");
        SqliteTestData.create(db, false, 100, 100, 8);
        try (ChildWriter holder = new ChildWriter("hold-exclusive", db)) {
            holder.awaitReady();
            EngineException e = assertThrows(EngineException.class,
                    () -> backup(SqliteSource.builder().path(db).busyTimeout(Duration.ofMillis(500)).build()));
            assertTrue(e.getMessage().startsWith("SQLite database " + db + " is locked by another process: it held a lock for longer than "
                    + "the busy timeout (500 ms)"), e.getMessage());
            assertTrue(e.getMessage().contains("busyTimeout"), e.getMessage());
        }
        // once the other process is gone the same backup works
        assertEquals("sqlite", backup(SqliteSource.builder().path(db).build()).snapshot().engine());
    }

    @Test
    void restore_intoAnExistingFile_isRefused_andTheFileIsUnchanged() throws Exception {
        Path existing = dir.resolve("existing.db");
        SqliteTestData.create(existing, false, 10, 10, 9);
        String before = SqliteBackupIT.sha256(existing);
        TargetExistsException e = assertThrows(TargetExistsException.class, () -> restore(SqliteTarget.builder().path(existing).build()));
        assertEquals("SQLite file " + existing, e.target());
        assertTrue(e.getMessage().startsWith("SQLite file " + existing + " exists; nothing was changed."), e.getMessage());
        assertEquals(before, SqliteBackupIT.sha256(existing));
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().contains("backupkit-restore")), "no temporary file left");
        }
    }

    @Test
    void restore_withOverwrite_replacesAWalDatabase_andNoStaleWalIsApplied() throws Exception {
        Path existing = dir.resolve("replace-me.db");
        SqliteTestData.create(existing, true, 50, 100, 10);
        // leave a WAL with committed changes beside the old database: they must not end up in the restored one
        Path wal = dir.resolve("replace-me.db-wal");
        Path saved = dir.resolve("saved-wal");
        try (Connection c = SqliteTestData.connect(existing); Statement s = c.createStatement()) {
            s.execute("PRAGMA wal_autocheckpoint=0");
            s.execute("INSERT INTO accounts VALUES (1000, 5)");
            Files.copy(wal, saved);
        }
        Files.copy(saved, wal, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        restore(SqliteTarget.builder().path(existing).overwrite().build());
        assertEquals(snapshotDigest, SqliteTestData.contentDigest(existing));
    }

    @Test
    void restore_withOverwrite_ofAFileLockedByAnotherProcess_isRefused_andChangesNothing() throws Exception {
        Path busy = dir.resolve("busy.db");
        SqliteTestData.create(busy, false, 20, 10, 11);
        String before = SqliteBackupIT.sha256(busy);
        try (ChildWriter holder = new ChildWriter("hold-exclusive", busy)) {
            holder.awaitReady();
            EngineException e = assertThrows(EngineException.class,
                    () -> restore(SqliteTarget.builder().path(busy).overwrite().busyTimeout(Duration.ofMillis(300)).build()));
            assertTrue(e.getMessage().startsWith("SQLite database " + busy + " is locked by another process"), e.getMessage());
            assertTrue(e.getMessage().endsWith("Nothing was changed"), e.getMessage());
        }
        assertEquals(before, SqliteBackupIT.sha256(busy));
    }
}
