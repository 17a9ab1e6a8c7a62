package io.backupkit.postgres;

import io.backupkit.KeyProviders;
import io.backupkit.LocalStorage;
import io.backupkit.Repository;
import io.backupkit.postgres.testing.EphemeralPostgres;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * archive_command and restore_command as PostgreSQL runs them: a JVM per call started by the
 * server (as its OS user) with {@link WalTool}.
 */
class WalArchiveCommandIT {
    @TempDir
    static Path shared;
    /** A script that runs WalTool with this test's classes: PostgreSQL cuts archive_command after 1023 bytes (MAXPGPATH). */
    static Path walTool;

    @BeforeAll
    static void copyClasspath() throws IOException {
        walTool = Path.of(walToolScript(shared.resolve("cp")));
    }

    /** Copies the class path into {@code dir} and writes an executable {@code waltool} script there; returns its path. */
    static String walToolScript(Path dir) throws IOException {
        String classpath = ServerUser.copyClasspath(dir);
        Path script = dir.resolve("waltool");
        Files.writeString(script, "#!/bin/sh\nexec " + Path.of(System.getProperty("java.home"), "bin", "java") + " -cp " + classpath
                + " " + WalTool.class.getName() + " \"$@\"\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script.toString();
    }

    record Setup(Path repoDir, Path keyFile) {
        String repoArgs() {
            return "--repo " + repoDir + " --key-file " + keyFile;
        }

        Repository open() {
            return Repository.builder().storage(LocalStorage.of(repoDir)).keyFile(keyFile).open();
        }
    }

    static Setup repository(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path keyFile = KeyProviders.generateKeyFile(dir.resolve("key"));
        Path repoDir = dir.resolve("repo");
        Repository.builder().storage(LocalStorage.of(repoDir)).keyFile(keyFile).create().close();
        ServerUser.own(dir);
        Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
        return new Setup(repoDir, keyFile);
    }

    static String tool(String command, String args) {
        return walTool + " " + command + " " + args;
    }

    static void awaitArchived(EphemeralPostgres pg, String walFile, int seconds) {
        WalReceiverIT.awaitTrue(() -> {
            List<List<String>> r = pg.query("postgres", "SELECT last_archived_wal, failed_count, last_failed_wal FROM pg_stat_archiver");
            String last = r.get(0).get(0);
            return last != null && last.compareTo(walFile) >= 0;
        }, seconds, () -> pg.query("postgres", "SELECT * FROM pg_stat_archiver") + "\n" + pg.logTail(3000));
    }

    static String currentWalFile(EphemeralPostgres pg) {
        return pg.queryForString("postgres", "SELECT pg_walfile_name(pg_current_wal_lsn())");
    }

    @Test
    void archiveCommand_pushesEverySegment_withoutGaps(@TempDir Path dir) throws IOException {
        Setup s = repository(dir);
        try (EphemeralPostgres pg = EphemeralPostgres.builder().setting("archive_mode", "on")
                .setting("archive_command", "'" + tool("push", s.repoArgs() + " %p") + "'").start()) {
            String first = currentWalFile(pg);
            pg.execute("postgres", "CREATE TABLE a (id int)");
            String last = null;
            for (int i = 0; i < 3; i++) {
                pg.execute("postgres", "INSERT INTO a SELECT generate_series(1, 10000)");
                last = currentWalFile(pg);
                pg.execute("postgres", "SELECT pg_switch_wal()");
            }
            awaitArchived(pg, last, 120);
            long sysid = Long.parseUnsignedLong(pg.queryForString("postgres", "SELECT system_identifier FROM pg_control_system()"));
            try (Repository repo = s.open()) {
                WalArchive wal = WalArchive.of(repo);
                assertEquals(List.of(sysid), wal.systemIds());
                WalContinuity c = wal.continuity(sysid, 1, WalArchive.segmentStartOf(first, 16L * 1024 * 1024));
                assertFalse(c.hasGaps(), c.describe());
                assertEquals(last, c.timelines().get(0).lastSegment());
            }
        }
    }

    @Test
    void asyncArchiveCommand_pushesAheadAndMarksSegmentsDone(@TempDir Path dir) throws IOException {
        Setup s = repository(dir);
        try (EphemeralPostgres pg = EphemeralPostgres.builder().setting("archive_mode", "on")
                .setting("archive_command", "'" + tool("push", "--async --idle-exit 20 " + s.repoArgs() + " %p") + "'").start()) {
            String first = currentWalFile(pg);
            pg.execute("postgres", "CREATE TABLE a (id int)");
            String last = null;
            for (int i = 0; i < 6; i++) {
                pg.execute("postgres", "INSERT INTO a SELECT generate_series(1, 10000)");
                last = currentWalFile(pg);
                pg.execute("postgres", "SELECT pg_switch_wal()");
            }
            String lastWal = last;
            long sysid = Long.parseUnsignedLong(pg.queryForString("postgres", "SELECT system_identifier FROM pg_control_system()"));
            try (Repository repo = s.open()) {
                WalArchive wal = WalArchive.of(repo);
                // pushed ahead, segments can arrive out of order: wait for the last one and for no gap before it
                WalReceiverIT.awaitTrue(() -> {
                    WalContinuity now = wal.continuity(sysid, 1, WalArchive.segmentStartOf(first, 16L * 1024 * 1024));
                    // the archive may already hold a later segment (a switch PostgreSQL made on its own)
                    return now.timelines().get(0).lastSegment().compareTo(lastWal) >= 0 && !now.hasGaps();
                }, 120, () -> "waiting for " + lastWal + ": " + wal.continuity(sysid, 1, WalArchive.segmentStartOf(first, 16L * 1024 * 1024))
                        .describe() + "\n" + pg.query("postgres", "SELECT * FROM pg_stat_archiver") + "\n" + pg.logTail(3000));
                WalContinuity c = wal.continuity(sysid, 1, WalArchive.segmentStartOf(first, 16L * 1024 * 1024));
                assertFalse(c.hasGaps(), c.describe());
            }
            Path status = pg.dataDirectory().resolve("pg_wal/archive_status");
            WalReceiverIT.awaitTrue(() -> {
                try (var files = Files.list(status)) {
                    return files.noneMatch(f -> f.toString().endsWith(".ready"));
                } catch (IOException e) {
                    return false;
                }
            }, 120);
            assertTrue(Files.exists(pg.dataDirectory().resolve("pg_wal/.backupkit-spool/pusher.log")));
        }
    }

    @Test
    void restoreCommand_replaysArchivedWal_toTheLatestCommit(@TempDir Path dir) throws IOException {
        Setup s = repository(dir);
        try (EphemeralPostgres pg = EphemeralPostgres.builder().setting("archive_mode", "on")
                .setting("archive_command", "'" + tool("push", s.repoArgs() + " %p") + "'").start()) {
            pg.execute("postgres", "CREATE TABLE r (id int, v text)");
            Path base = dir.resolve("base");
            Files.createDirectories(base);
            ServerUser.own(base);
            pg.runTool("pg_basebackup", "-D", base.resolve("data").toString(), "-c", "fast", "-X", "stream", "--no-sync");
            pg.execute("postgres", "INSERT INTO r SELECT i, md5(i::text) FROM generate_series(1, 30000) i");
            pg.execute("postgres", "SELECT pg_switch_wal()");
            pg.execute("postgres", "INSERT INTO r VALUES (-1, 'last')");
            String last = currentWalFile(pg);
            pg.execute("postgres", "SELECT pg_switch_wal()");
            awaitArchived(pg, last, 120);
            String expected = pg.queryForString("postgres", "SELECT count(*) || ':' || sum(id) FROM r");
            // a second cluster from the base backup, recovering through restore_command
            try (EphemeralPostgres restored = EphemeralPostgres.builder().password(pg.password()).start()) {
                restored.stopServer();
                Path data = restored.dataDirectory();
                replaceDataDirectory(base.resolve("data"), data);
                restored.writeDataFile("recovery.signal", "");
                restored.appendAutoConf(Map.of("restore_command", "'" + tool("fetch", s.repoArgs() + " %f %p") + "'",
                        "recovery_target_action", "'promote'", "archive_mode", "'off'", "port", Integer.toString(restored.port()),
                        "unix_socket_directories", "'" + restored.workDirectory() + "'"));
                restored.restart();
                WalReceiverIT.awaitTrue(() -> "f".equals(restored.queryForString("postgres", "SELECT pg_is_in_recovery()")), 180,
                        () -> restored.logTail(4000));
                assertEquals(expected, restored.queryForString("postgres", "SELECT count(*) || ':' || sum(id) FROM r"));
            }
        }
    }

    /** Moves a base backup into a stopped cluster's data directory (keeping its ownership and mode). */
    static void replaceDataDirectory(Path from, Path data) throws IOException {
        try (var s = Files.walk(data)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                if (!p.equals(data)) {
                    Files.delete(p);
                }
            }
        }
        try (var s = Files.list(from)) {
            for (Path p : s.toList()) {
                Files.move(p, data.resolve(p.getFileName()));
            }
        }
        ServerUser.own(data);
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
    }
}
